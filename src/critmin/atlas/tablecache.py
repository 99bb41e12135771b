"""Binary copies of parsed atlas inputs (the built tables, the bundled country groups), each keyed by a
digest of everything it is parsed from.

Parsing the built CSVs (``loader.read_table``) is most of an atlas load; unpickling the same validated
frames is ~50 times faster. A key is the SHA-256 of the input bytes, of the parsing code (its source
files) and of the Python and library versions: a change to any of them is a new key, so a stale copy is
never served. A copy that cannot be read (absent, truncated, another layout) is treated as absent and
rewritten; a cache directory that cannot be written only costs the parse. The copies are pickles in the
user's own cache directory (``options().cache_dir``), trusted like the user's other files;
``CRITMIN_ATLAS_CACHE=false`` turns them off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata, resources
from pathlib import Path
from typing import Any, TypeVar

#: bump when the layout of the cached files changes
FORMAT = 1
#: copies kept per kind and cache directory (the most recently used); older ones are removed on a write
KEEP = 4

T = TypeVar("T")


def digest(raw: Mapping[str, bytes], code: Iterable[str], versions: Mapping[str, str]) -> str:
    """SHA-256 (hex) of the inputs' bytes (by name), the source of the ``code`` files (paths inside the
    ``critmin`` package), the Python version and the libraries' ``versions``."""
    h = hashlib.sha256(f"format={FORMAT}\0python={sys.version}\0".encode())
    for lib in sorted(versions):
        h.update(f"{lib}={versions[lib]}\0".encode())
    package = resources.files("critmin")
    for rel in code:
        h.update(f"{rel}\0".encode() + package.joinpath(rel).read_bytes() + b"\0")
    for name in sorted(raw):
        h.update(f"{name}={len(raw[name])}\0".encode())
        h.update(raw[name])
    return h.hexdigest()


def installed(*distributions: str) -> dict[str, str]:
    """The installed version of each distribution (without importing it)."""
    return {d: metadata.version(d) for d in distributions}


def _path(folder: Path, kind: str, key: str) -> Path:
    return folder / f"{kind}-{key}.pickle"


def load(folder: Path, kind: str, key: str) -> Any | None:
    """The object cached under ``kind`` and ``key``, or None."""
    path = _path(folder, kind, key)
    try:
        with path.open("rb") as f:
            stored = pickle.load(f)
    except Exception:  # absent, truncated or foreign: parse again (and replace it)
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or "value" not in stored:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used: kept by the pruning of ``store``
    return stored["value"]


def store(folder: Path, kind: str, key: str, value: Any) -> bool:
    """Write the copy atomically (a temporary file renamed into place); False when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump({"key": key, "value": value}, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, _path(folder, kind, key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    _prune(folder, kind)
    return True


def _prune(folder: Path, kind: str) -> None:
    """Remove all but the :data:`KEEP` most recently used copies of ``kind``."""
    with contextlib.suppress(OSError):
        copies = sorted(folder.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in copies[KEEP:]:
            old.unlink(missing_ok=True)


def cached(kind: str, key: str, build: Callable[[], T], valid: Callable[[Any], bool]) -> T:
    """``build()``, through the copy of ``kind``/``key`` in ``options().cache_dir`` when
    ``options().atlas_cache``; a copy for which ``valid`` is false is rebuilt."""
    from critmin.options import options

    o = options()
    if not o.atlas_cache:
        return build()
    hit = load(o.cache_dir, kind, key)
    if hit is not None and valid(hit):
        return hit
    value = build()
    store(o.cache_dir, kind, key, value)
    return value
