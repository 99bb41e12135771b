"""Exposure documents held in memory per (data edition, year, group[, material, stage]).

Exposure is a pure function of the bundled data edition, the year and the group, so its JSON (compact, no
indentation) is computed once per key and served from memory afterwards; :func:`precompute_exposure` fills
the details of every material and stage of a (year, group) at once (``critmin serve`` runs it for the
default year and group at start-up, in a background thread). Used by the analytics router and by the
``exposure`` job (:mod:`critmin.api.exposure_jobs`).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from critmin.options import options
from critmin.serialize import dumps

DEFAULT_YEAR = options().default_year
DEFAULT_GROUP = options().alliance_group
_CACHE_SIZE = 64  # (edition, year, group) keys held; details of all pairs of a key count as one key


def _atlas() -> Any:
    from critmin.atlas import load_atlas

    return load_atlas()


def _edition(atlas: Any) -> tuple[tuple[str, str], ...]:
    """The data edition of the atlas (its sources' edition keys): part of every cache key."""
    return tuple(sorted((str(k), str(v)) for k, v in atlas.editions.items()))


class _ExposureCache:
    """Compact JSON of exposure results per (edition, year, group); thread-safe, one computation per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[tuple[Any, ...], str] = {}
        self._details: dict[tuple[Any, ...], dict[tuple[str, str], str]] = {}
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._params: Any = None

    def params(self) -> Any:
        """One parameter set per process (the bundled table is static)."""
        from critmin.parameters import ParameterSet

        if self._params is None:
            self._params = ParameterSet()
        return self._params

    def _key_lock(self, key: tuple[Any, ...]) -> threading.Lock:
        with self._lock:
            if len(self._key_locks) >= 4 * _CACHE_SIZE:
                self._key_locks.clear()
            return self._key_locks.setdefault(key, threading.Lock())

    def table(self, year: int, group: str) -> str | None:
        return self._tables.get((_edition(_atlas()), year, group))

    def detail(self, year: int, group: str, material: str, stage: str) -> str | None:
        return self._details.get((_edition(_atlas()), year, group), {}).get((material, stage))

    def clear(self) -> None:
        """Forget every held document (as after a restart)."""
        with self._lock:
            self._tables.clear()
            self._details.clear()

    def put(self, year: int, group: str, text: str, pair: tuple[str, str] | None = None) -> None:
        """Hold a document computed elsewhere (another process's job, read back from the store)."""
        key = (_edition(_atlas()), year, group)
        with self._lock:
            if pair is None:
                if len(self._tables) >= _CACHE_SIZE:
                    self._tables.clear()
                self._tables[key] = text
            else:
                if key not in self._details and len(self._details) >= _CACHE_SIZE:
                    self._details.clear()
                self._details.setdefault(key, {})[pair] = text

    def compute_table(self, year: int, group: str) -> str:
        from critmin.runs.exposure import ExposureRequest, run

        atlas = _atlas()
        key = (_edition(atlas), year, group)
        with self._key_lock(("table", *key)):
            if key in self._tables:
                return self._tables[key]
            result = run(ExposureRequest(year=year, group=group), atlas=atlas, params=self.params())
            rows = result.rows().to_dict(orient="records")
            text = dumps(
                {"year": year, "group": group, "rows": rows, "metadata": result.metadata.model_dump()}
            )
            with self._lock:
                if len(self._tables) >= _CACHE_SIZE:
                    self._tables.clear()
                self._tables[key] = text
            return text

    def compute_detail(self, year: int, group: str, material: str, stage: str) -> str:
        from critmin.runs.exposure import ExposureRequest, run

        atlas = _atlas()
        key = (_edition(atlas), year, group)
        with self._key_lock(("detail", *key, material, stage)):
            found = self._details.get(key, {}).get((material, stage))
            if found is not None:
                return found
            req = ExposureRequest(material=material, stage=stage, year=year, group=group)
            text = dumps(run(req, atlas=atlas, params=self.params()).detail)
            with self._lock:
                if key not in self._details and len(self._details) >= _CACHE_SIZE:
                    self._details.clear()
                self._details.setdefault(key, {})[(material, stage)] = text
            return text


CACHE = _ExposureCache()


def exposure_pairs() -> list[tuple[str, str]]:
    """Every (material, stage) of the atlas with primary production data (worked out once per data
    edition: about 60 ms)."""
    atlas = _atlas()
    return list(_pairs_of(_edition(atlas), atlas))


@functools.lru_cache(maxsize=4)
def _pairs_of(edition: tuple[tuple[str, str], ...], atlas: Any) -> tuple[tuple[str, str], ...]:
    p = atlas.production
    usable = p[p["primary"].astype(bool) & p["tonnes"].notna()]
    return tuple(sorted({(str(m), str(s)) for m, s in zip(usable["material"], usable["stage"], strict=True)}))


def precompute_exposure(year: int = DEFAULT_YEAR, group: str = DEFAULT_GROUP) -> int:
    """Compute the exposure table and the detail of every material and stage of (year, group) into the
    cache; returns the number of details held."""
    CACHE.compute_table(year, group)
    pairs = exposure_pairs()
    for material, stage in pairs:
        CACHE.compute_detail(year, group, material, stage)
    return len(pairs)


def start_precompute(year: int = DEFAULT_YEAR, group: str = DEFAULT_GROUP) -> threading.Thread:
    """:func:`precompute_exposure` in a daemon thread (the service answers meanwhile)."""
    thread = threading.Thread(target=precompute_exposure, args=(year, group), daemon=True, name="exposure")
    thread.start()
    return thread
