"""The reserve page as jobs (in process, the service's embedded worker on SQLite): the form queues the
``stockpile`` job with the request the CLI and API use, the job page shows progress, then the plan, then
queues the ``reserve_finance`` job of the plan's holdings once; CSV downloads and the PDF brief read the
stored results, and the brief's figures are the page's. Another account's job is "not found"."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critmin.api.app import create_app
from critmin.store import Store
from critmin.store.members import Principal, create_member, issue_token
from critmin.web.brief import RESERVE_FINANCE_COLUMNS
from critmin.web.render import fmt
from critmin.web.reserve import _request, sizing_page

from .pdftext import pdf_strings, pdf_table

ORIGIN = {"Origin": "http://testserver"}
FORM = {"scenarios": "200", "seed": "2", "horizon": "12", "budget": "3000000000"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('reserve-jobs') / 'r.db'}")
    store.upgrade()
    admin = Principal(None, "test", "system", None)
    tokens = {}
    with store.write() as s:
        for name, iso3 in (("Australia", "AUS"), ("Japan", "JPN")):
            tokens[iso3] = issue_token(s, admin, create_member(s, admin, name, "member", iso3), "t")
        tokens["secretariat"] = issue_token(
            s, admin, create_member(s, admin, "Sec", "secretariat", None), "t"
        )
    with TestClient(create_app(store)) as c:
        yield c, tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wait(c: TestClient, job_id: str, token: str, seen: list[float]) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        s = c.get(f"/reserve/jobs/{job_id}/status", headers=_bearer(token)).json()
        seen.append(float(s["progress"] or 0.0))
        if s["status"] not in ("queued", "running"):
            assert s["status"] == "succeeded", s
            job: dict[str, Any] = c.get(f"/api/v1/jobs/{job_id}", headers=_bearer(token)).json()
            return job
        time.sleep(0.2)
    raise TimeoutError(job_id)


@pytest.fixture(scope="module")
def finished(app: tuple[TestClient, dict[str, str]]) -> dict[str, Any]:
    """Submit the form as Australia, follow the sizing job, then the finance job the page queued."""
    c, tokens = app
    token = tokens["AUS"]
    c.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/reserve", params=FORM).text)
    assert csrf is not None
    r = c.post("/reserve/run", data={**FORM, "csrf": csrf.group(1)}, headers={**ORIGIN, **_bearer(token)},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    running = c.get(r.headers["location"], headers=_bearer(token)).text
    seen: list[float] = []
    sizing = _wait(c, job_id, token, seen)
    first = c.get(f"/reserve/jobs/{job_id}", headers=_bearer(token))  # queues the finance job
    jobs = c.get("/api/v1/jobs", headers=_bearer(token)).json()
    fin = [j for j in jobs if j["kind"] == "reserve_finance"]
    assert len(fin) == 1
    finance = _wait(c, fin[0]["id"], token, [])
    again = c.get(f"/reserve/jobs/{job_id}", headers=_bearer(token))
    jobs = c.get("/api/v1/jobs", headers=_bearer(token)).json()
    return {"id": job_id, "running": running, "seen": seen, "sizing": sizing, "finance": finance,
            "first": first.text, "page": again.text, "jobs": jobs, "token": token}  # fmt: skip


def test_the_form_queues_the_stockpile_job_with_the_cli_request(finished: dict[str, Any]) -> None:
    sizing = finished["sizing"]
    assert sizing["kind"] == "stockpile"
    assert sizing["params"] == _request(FORM).model_dump(mode="json")
    assert sizing["result"]["request"] == sizing["params"]
    assert sizing["result"]["budget_usd"] == 3e9 and sizing["result"]["scenarios"] == 200


def test_the_page_shows_progress_then_the_plan_then_the_finances(finished: dict[str, Any]) -> None:
    running = finished["running"]
    if "Sizing the reserve (stockpile job" in running:  # the job had not finished when the page was served
        assert f'data-status-url="/reserve/jobs/{finished["id"]}/status"' in running
    assert max(finished["seen"]) == 1.0
    # right after the sizing: the plan, and the finance job's progress (or its result if already done)
    first = finished["first"]
    assert 'id="table-optimised"' in first and finished["sizing"]["result"]["headline"][:40] in first
    assert "finance" in first and ('id="job-progress"' in first or 'id="chart-finances"' in first)
    page = finished["page"]
    assert 'id="job-progress"' not in page and 'id="chart-finances"' in page
    assert finished["finance"]["result"]["headline"].split(";")[0] in page
    # a reload queues no second finance job
    assert [j["kind"] for j in finished["jobs"]].count("reserve_finance") == 1


def test_every_block_downloads_from_the_stored_results(
    app: tuple[TestClient, dict[str, str]], finished: dict[str, Any]
) -> None:
    c, _ = app
    base = f"/reserve/jobs/{finished['id']}"
    page = sizing_page(finished["sizing"]["result"], finished["finance"]["result"])
    for block in page.blocks:
        r = c.get(f"{base}/download.csv", params={"block": block.key}, headers=_bearer(finished["token"]))
        assert r.status_code == 200, (block.key, r.text)
        name = r.headers["content-disposition"]
        assert name == f'attachment; filename="reserve-3.00bn-200sc-seed2-12m-{block.key}.csv"'
        lines = r.text.splitlines()
        assert lines[0] == ",".join(block.frame.columns) and len(lines) == len(block.frame) + 1
        assert f'href="{base}/download.csv?page=reserve&amp;block={block.key}"' in finished["page"]
    bad = c.get(f"{base}/download.csv", params={"block": "nope"}, headers=_bearer(finished["token"]))
    assert bad.status_code == 404 and "comparison" in bad.text


def test_the_reserve_brief_holds_the_pages_figures(
    app: tuple[TestClient, dict[str, str]], finished: dict[str, Any]
) -> None:
    c, _ = app
    r = c.get(f"/reserve/jobs/{finished['id']}/brief.pdf", headers=_bearer(finished["token"]))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].endswith(
        'filename="critmin-brief-reserve-3.00bn-200sc-seed2-12m.pdf"'
    )
    strings = pdf_strings(r.content)
    page = sizing_page(finished["sizing"]["result"], finished["finance"]["result"])
    for key, columns in (("comparison", None), ("finances", RESERVE_FINANCE_COLUMNS)):
        frame = page.block(key).frame
        frame = frame if columns is None else frame[columns]
        got = pdf_table(strings, list(frame.columns), len(frame))
        assert got == [[fmt(v.item() if hasattr(v, "item") else v) for v in row]
                       for row in frame.itertuples(index=False)]  # fmt: skip
    held = page.block("optimised").frame.sort_values("cost_usd", ascending=False)
    assert pdf_table(strings, list(held.columns), min(len(held), 15))[0][0] == held["material"].iloc[0]
    text = " ".join(strings)
    for figure in re.findall(r"USD -?[\d,.]+ (?:bn|m)", " ".join(page.context["lead"])):
        assert figure in text, figure
    assert "Sources and data editions" in strings


def test_another_account_cannot_see_the_job(
    app: tuple[TestClient, dict[str, str]], finished: dict[str, Any]
) -> None:
    c, tokens = app
    other = _bearer(tokens["JPN"])
    base = f"/reserve/jobs/{finished['id']}"
    for path in (base, f"{base}/download.csv?block=comparison", f"{base}/brief.pdf", f"{base}/status"):
        r = c.get(path, headers=other)
        assert r.status_code == 404, path
        assert finished["sizing"]["result"]["headline"][:30] not in r.text
    c.cookies.clear()
    assert c.get(base).status_code == 401
    assert "sign in" in c.get("/reserve").text.lower()


def test_the_secretariat_reads_the_job_and_queues_nothing(
    app: tuple[TestClient, dict[str, str]], finished: dict[str, Any]
) -> None:
    c, tokens = app
    sec = _bearer(tokens["secretariat"])
    page = c.get(f"/reserve/jobs/{finished['id']}", headers=sec)
    assert page.status_code == 200 and 'id="chart-finances"' in page.text
    pdf = c.get(f"/reserve/jobs/{finished['id']}/brief.pdf", headers=sec)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    every = c.get("/api/v1/jobs", headers=sec).json()
    assert [j["kind"] for j in every].count("reserve_finance") == 1
