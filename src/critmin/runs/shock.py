"""The shock question: what one disruption scenario does to prices, supply and losses (CLI ``critmin
shock``, the ``simulate`` job, the scenario lab)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata
from critmin.runs.editions import editions_read, production_rows


class ShockRequest(BaseModel):
    """A bundled scenario name (e.g. ``gallium-2023``), a YAML/JSON file, or the scenario mapping itself
    (name, horizon_months, events: what ``critmin shock`` reads from YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str | dict[str, Any] = Field(description="bundled name, file path or scenario mapping")

    @field_validator("scenario")
    @classmethod
    def _valid(cls, v: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(v, dict):
            from critmin.disruption import parse_scenario

            parse_scenario(v, "params.scenario")
        elif not v.strip():
            raise ValueError("scenario: empty; expected a bundled name, a file or a mapping")
        return v


def load(spec: str | dict[str, Any]) -> Any:
    """The Scenario named, read from a file, or parsed from a mapping."""
    from critmin.disruption import load_scenario, parse_scenario
    from critmin.disruption.events import bundled_scenario

    if isinstance(spec, dict):
        return parse_scenario(spec, "params.scenario")
    as_file = Path(spec).exists() or Path(spec).suffix.lower() in (".yaml", ".yml", ".json")
    return load_scenario(spec) if as_file else bundled_scenario(spec)


@dataclass(frozen=True)
class ShockRun:
    """The engine's result (``shock``: arrays [material, month]) with labelled views."""

    request: ShockRequest
    shock: Any  # critmin.disruption.simulate.ShockResult
    metadata: RunMetadata

    def summary(self) -> pd.DataFrame:
        """One row per named material: peak price, restricted, shortfall, losses."""
        return pd.DataFrame(self.shock.summary())

    def paths(self, name: str = "price_outside") -> Any:
        """An array of the result as an xarray DataArray labelled [material, month]."""
        import xarray as xr

        values = getattr(self.shock, name)
        months = range(1, values.shape[1] + 1)
        return xr.DataArray(
            values, dims=("material", "month"), coords={"material": self.shock.materials, "month": months}
        ).rename(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per named material the price paths, shortfall by month and losses, the metadata."""
        out: dict[str, Any] = self.shock.to_dict()
        return out


def run(request: ShockRequest, *, atlas: Any = None, params: ParameterSet | None = None) -> ShockRun:
    """Simulate the scenario (raises ``ScenarioError`` / ``InputError`` on a bad scenario or data)."""
    from critmin.disruption import simulate

    ps = params or ParameterSet()
    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    result = simulate(atlas, load(request.scenario), params=ps)
    meta = result.metadata.model_copy(update={"data_editions": model_editions(atlas, result.materials)})
    return ShockRun(request, dataclasses.replace(result, metadata=meta), meta)


def model_editions(atlas: Any, materials: list[str]) -> dict[str, str]:
    """Editions the disruption engine reads for ``materials``: their production rows (every stage, latest
    year), their USGS prices and BACI trade."""
    pairs = [(m, s) for m in materials for s in atlas.stages_of(m)]
    return editions_read(atlas, production=production_rows(atlas, pairs), prices=materials, tables=("trade",))
