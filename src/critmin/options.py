"""One options tree: the defaults and bounds every surface (CLI, API, dashboard) shares.

Each value is documented here once and overridable from the environment with the prefix ``CRITMIN_`` and
``__`` between levels, e.g. ``CRITMIN_ALLIANCE_GROUP=g7`` or ``CRITMIN_RISK__SCENARIOS__DEFAULT=5000``.
The CLI overrides a value per command with its own option; the API and the dashboard take their field
defaults and bounds from here. ``options()`` is read once per process (cached); tests call
``options.cache_clear()`` after changing the environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ENV_PREFIX = "CRITMIN_"
ENV_NESTED_DELIMITER = "__"


class Bound(BaseModel):
    """A default with its inclusive bounds (a count, a month horizon, ...)."""

    default: int
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> Bound:
        if not self.min <= self.default <= self.max:
            raise ValueError(f"expected min <= default <= max, got {self.min}, {self.default}, {self.max}")
        return self


class _Section(BaseModel):
    """A group of options; a partial override (one nested value from the environment) keeps the rest."""

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, f in cls.model_fields.items():
            given, default = out.get(name), f.default
            if isinstance(given, dict) and isinstance(default, BaseModel):
                out[name] = {**default.model_dump(), **given}
        return out


class RiskOptions(_Section):
    """Monte Carlo of random restrictions (``critmin risk``, the ``montecarlo`` job, the dashboard)."""

    scenarios: Bound = Bound(default=10_000, min=1, max=1_000_000)
    horizon_months: Bound = Bound(default=24, min=1, max=240)
    chunk_size: Bound = Bound(default=10_000, min=10, max=100_000)
    var_level: float = Field(0.95, gt=0.5, lt=1.0, description="VaR / CVaR confidence level")
    threads: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        le=256,
        description="chunks the local backend runs at once, one thread each (default: the CPU count, at "
        "most 2, the machine the targets were set on); 1: one chunk at a time on a parallel kernel",
    )


class ReserveOptions(_Section):
    """Reserve sizing (``critmin vault size``, the ``stockpile`` job, the reserve page)."""

    scenarios: Bound = Bound(default=1_000, min=1, max=100_000)
    horizon_months: Bound = Bound(default=12, min=1, max=180)


class FloorOptions(_Section):
    """Price mechanisms costed on simulated paths (``critmin floor``, the ``floor`` job, the prices page)."""

    paths: Bound = Bound(default=10_000, min=1, max=1_000_000)
    years: Bound = Bound(default=10, min=1, max=20)
    #: the prices page evaluates while the user waits: its own default and ceiling of the path count
    page_paths: Bound = Bound(default=2_000, min=100, max=20_000)


class Options(BaseModel):
    """critmin's options (``Options()``: the defaults; :func:`options`: with the environment's overrides)."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    alliance_group: str = Field(
        "ministerial-2026",
        description="default country group of the alliance (the Feb 2026 ministerial + EU-27)",
    )
    default_year: int = Field(2024, ge=1990, le=2100, description="default data year of exposure views")
    solver: Literal["highs"] = Field("highs", description="LP/MILP solver (HiGHS through linopy/highspy)")
    backend: Literal["local", "dask"] = Field("local", description="Monte Carlo backend")
    dask_scheduler: str | None = Field(None, description="Dask scheduler address (None: a LocalCluster)")
    strict_atlas: bool = Field(
        True,
        description="the CLI and the API refuse an atlas that fails its consistency check (an error naming "
        "the problem); false: they list the problems as warnings, as the library always does",
    )
    atlas_dir: Path | None = Field(
        None,
        description="read the built atlas tables from this folder (None: the bundled critmin/data/built)",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "critmin",
        description="where derived copies live that are rebuilt when missing (the parsed atlas tables)",
    )
    atlas_cache: bool = Field(
        True,
        description="keep a binary copy of the parsed atlas tables in cache_dir, keyed by the tables' "
        "content digest (false: parse the CSVs on every load)",
    )
    data_dir: Path = Field(
        default_factory=lambda: Path.home() / ".local" / "share" / "critmin",
        description="where the embedded SQLite database and job artefacts live",
    )
    risk: RiskOptions = RiskOptions()
    reserve: ReserveOptions = ReserveOptions()
    floor: FloorOptions = FloorOptions()


#: strict atlas check for the current command: the CLI sets it from ``options().strict_atlas`` for the
#: command's duration (the API checks at start-up); the library's default is lenient (problems are listed
#: on ``atlas.warnings``), see :func:`critmin.atlas.load_atlas`
STRICT_ATLAS: ContextVar[bool] = ContextVar("critmin_strict_atlas", default=False)


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The overrides in ``environ``: ``CRITMIN_NAME`` (any case) for a top-level option, ``__`` between
    the levels of a section (``CRITMIN_RISK__SCENARIOS__DEFAULT``); a value for a section or a bound is a
    JSON object (``CRITMIN_RISK='{"var_level": 0.9}'``), under the more nested variables. Unknown names
    are ignored (other ``CRITMIN_`` variables belong to the tests or the service)."""
    out: dict[str, Any] = {}
    for name in sorted(environ, key=lambda n: (n.count(ENV_NESTED_DELIMITER), n)):  # wholes first
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER)
        kind = _kind(path)
        if kind is None:
            continue
        value: Any = environ[name]
        if kind == "model":
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{name}: expected a JSON object ({exc})") from exc
        node = out
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
    return out


def _kind(path: list[str]) -> str | None:
    """``model`` (a section or a bound), ``value`` (a leaf) or None (no such option) for an option path."""
    model: type[BaseModel] = Options
    for i, key in enumerate(path):
        field = model.model_fields.get(key)
        if field is None:
            return None
        default = field.default
        if not isinstance(default, BaseModel):
            return "value" if i == len(path) - 1 else None
        model = type(default)
    return "model"


@cache
def options() -> Options:
    """The options of this process (environment read once)."""
    return Options.model_validate(from_environment(os.environ))
