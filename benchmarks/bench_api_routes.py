"""Every GET route of the API, timed once as the public (no token) would call it, on the bundled data.

Issue 19 item 4: a public GET that takes more than 0.5 s must become a job (POST creates it, GET polls it).
The app runs in process (``fastapi.testclient``) on a fresh SQLite database seeded with the demo alliance
(``critmin.api.seed``: accounts and one open reserve), without the start-up exposure jobs and without a
job worker, so each exposure route meets a cache miss (the atlas is loaded before the first timing, as a
running server has it). Before the exposure jobs, those misses computed inside the request (2.2 s for a
detail, 3.4 s for the table, load ~4); now they answer 202 with the job to poll, and the timing is the GET
alone. Each route is called once, then a second time. Routes that need a token answer 401 to the public
and are listed as such. Exit code 1 when a public route's first call takes more than 0.5 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

LIMIT_S = 0.5
#: values for the path parameters (real ids of the seeded database and a real material/stage)
PATH_VALUES = {
    "material": "gallium",
    "stage": "refine",
    "reserve_id": "1",
    "submission_id": "1",
    "job_id": "0123456789abcdef",
}


def get_paths(app: object) -> list[str]:
    """The GET paths of the app's OpenAPI schema with their path parameters filled in."""
    schema = app.openapi()  # type: ignore[attr-defined]
    out = []
    for path, ops in schema["paths"].items():
        if "get" in ops:
            filled = path
            for name, value in PATH_VALUES.items():
                filled = filled.replace("{" + name + "}", value)
            assert "{" not in filled, f"no value for a path parameter of {path}"
            out.append(filled)
    return out


def main() -> int:
    from fastapi.testclient import TestClient

    from critmin.api.app import create_app
    from critmin.api.seed import seed_demo
    from critmin.atlas import load_atlas
    from critmin.store import Store

    load_atlas()  # a running server has the atlas loaded before its first exposure request
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    slow: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'routes.sqlite3'}")
        store.upgrade()
        seed_demo(store)
        app = create_app(store, job_kinds={}, embedded_worker=False)
        with TestClient(app, raise_server_exceptions=False) as client:
            print(f"{'route':<46} {'status':>6} {'first s':>8} {'again s':>8}  public")
            for path in get_paths(app):
                t0 = time.perf_counter()
                first = client.get(path)
                t1 = time.perf_counter()
                client.get(path)
                t2 = time.perf_counter()
                public = first.status_code not in (401, 403)
                flag = public and t1 - t0 > LIMIT_S
                if flag:
                    slow.append(path)
                print(
                    f"{path:<46} {first.status_code:>6} {t1 - t0:>8.3f} {t2 - t1:>8.3f}  "
                    f"{'yes' if public else 'no (token)'}{'  > 0.5 s' if flag else ''}"
                )
        store.dispose()
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"public GET routes over {LIMIT_S} s: {', '.join(slow) if slow else 'none'}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
