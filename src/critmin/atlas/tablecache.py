"""A binary copy of the parsed atlas tables, keyed by a digest of everything they are parsed from.

Parsing the built CSVs (``loader.read_table``) is most of an atlas load; unpickling the same validated
frames is ~50 times faster. The key is the SHA-256 of the CSV bytes of every table, of the parsing
contract (the source of ``loader.py`` and ``schema.py``) and of the Python, pandas, NumPy and pyarrow
versions: a change to any of them is a new key, so a stale copy is never served. A copy that cannot be
read (truncated, another format) is treated as absent and rewritten; a cache directory that cannot be
written only costs the parse. The copy is a pickle in the user's own cache directory
(``options().cache_dir``), trusted like the user's other files; ``CRITMIN_ATLAS_CACHE=false`` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

#: bump when the layout of the cached file changes
FORMAT = 1
PREFIX = "atlas-tables-"
#: copies kept per cache directory (the most recently used); older ones are removed on a write
KEEP = 4


def digest(raw: Mapping[str, bytes]) -> str:
    """SHA-256 (hex) of the tables' bytes, the parsing contract and the library versions."""
    h = hashlib.sha256()
    contract = resources.files("critmin.atlas")
    parts = [
        f"format={FORMAT}",
        f"python={sys.version}",
        f"pandas={pd.__version__}",
        f"numpy={np.__version__}",
        f"pyarrow={pa.__version__}",
    ]
    for part in parts:
        h.update(part.encode() + b"\0")
    for module in ("loader.py", "schema.py"):
        h.update(contract.joinpath(module).read_bytes() + b"\0")
    for name in sorted(raw):
        h.update(f"{name}={len(raw[name])}\0".encode())
        h.update(raw[name])
    return h.hexdigest()


def _path(folder: Path, key: str) -> Path:
    return folder / f"{PREFIX}{key}.pickle"


def load(folder: Path, key: str, names: tuple[str, ...]) -> dict[str, pd.DataFrame] | None:
    """The cached tables for ``key``, or None (no copy, or one that does not hold exactly ``names``)."""
    path = _path(folder, key)
    try:
        with path.open("rb") as f:
            stored = pickle.load(f)
    except Exception:  # absent, truncated or foreign: parse again (and replace it)
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    tables = stored.get("tables")
    if not isinstance(tables, dict) or tuple(tables) != names:
        return None
    if not all(isinstance(t, pd.DataFrame) for t in tables.values()):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used: kept by the pruning of ``store``
    return tables


def store(folder: Path, key: str, tables: dict[str, pd.DataFrame]) -> bool:
    """Write the copy atomically (a temporary file renamed into place); False when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump({"key": key, "tables": tables}, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, _path(folder, key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    _prune(folder)
    return True


def _prune(folder: Path) -> None:
    """Remove all but the :data:`KEEP` most recently used copies."""
    with contextlib.suppress(OSError):
        copies = sorted(folder.glob(f"{PREFIX}*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in copies[KEEP:]:
            old.unlink(missing_ok=True)
