"""The exposure question: who produces a material at each stage, how concentrated, how exposed the
alliance is (CLI ``critmin exposure``, API ``/analytics/exposure``, the overview and material pages).

With ``material`` and ``stage`` the result is one detail (shares by country and group, HHI, supply risk,
trade and US blocks); otherwise the table of every material and stage, filtered by either when given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata
from critmin.runs.editions import editions_read, production_rows
from critmin.serialize import plain

_O = options()


class ExposureRequest(BaseModel):
    """Material and stage (both: one detail), data year (latest on or before it) and alliance group."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    material: str | None = Field(default=None, min_length=1)
    stage: str | None = Field(default=None, min_length=1)
    year: int = Field(default=_O.default_year, ge=1900, le=2100)
    group: str = Field(default=_O.alliance_group, min_length=1)

    @field_validator("stage")
    @classmethod
    def _stage_word(cls, v: str | None) -> str | None:
        """``mining`` -> ``mine``, ``refining``/``separation`` -> ``refine`` (atlas.schema.STAGE_ALIASES)."""
        from critmin.atlas.schema import canonical_stage

        return None if v is None else canonical_stage(v)


@dataclass(frozen=True)
class ExposureResult:
    """``table`` (one row per material and stage) or ``detail`` (one material and stage)."""

    request: ExposureRequest
    table: pd.DataFrame | None
    detail: dict[str, Any] | None
    metadata: RunMetadata

    def rows(self) -> pd.DataFrame:
        """The table (a request without both material and stage)."""
        if self.table is None:
            raise ValueError("this exposure result is one material and stage; see .detail")
        return self.table

    def one(self) -> dict[str, Any]:
        """The detail (a request with material and stage)."""
        if self.detail is None:
            raise ValueError("this exposure result is a table; see .table")
        return self.detail

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the detail's fields or the table's rows, with the metadata."""
        body: dict[str, Any] = {"detail": self.detail} if self.detail is not None else {"rows": self.table}
        out: dict[str, Any] = plain({"question": "exposure", "request": self.request, **body})
        return out | {"metadata": self.metadata.model_dump(mode="json")}


def _filtered(table: pd.DataFrame, req: ExposureRequest) -> pd.DataFrame:
    from critmin.analytics.exposure import ExposureError

    if req.material is not None:
        table = table[table["material"] == req.material]
        if table.empty:
            raise ExposureError(f"material {req.material!r} has no production data in the atlas")
    if req.stage is not None:
        stages = sorted(set(table["stage"]))
        table = table[table["stage"] == req.stage]
        if table.empty:
            raise ExposureError(f"no production data for stage {req.stage!r}; stages with data: {stages}")
    return table.reset_index(drop=True)


def run(request: ExposureRequest, *, atlas: Any = None, params: ParameterSet | None = None) -> ExposureResult:
    """The exposure detail or table (raises ``ExposureError`` naming what is missing)."""
    from critmin.analytics.exposure import PARAMETER_NAMES, exposure_detail, exposure_table
    from critmin.analytics.revisions import with_revision_notes

    ps = params or ParameterSet()
    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    req = request
    detail = table = None
    if req.material is not None and req.stage is not None:
        detail = exposure_detail(atlas, req.material, req.stage, req.year, req.group, params=ps)
        row = pd.DataFrame([{k: detail[k] for k in ("material", "stage", "year", "source")}])
        detail["edition_note"] = str(with_revision_notes(row, atlas, ps)["note"].iloc[0])
        pairs = [(req.material, req.stage)]
        rows = production_rows(atlas, pairs, int(detail["year"]))
    else:
        full = exposure_table(atlas, req.year, req.group, params=ps)
        table = _filtered(with_revision_notes(full, atlas, ps), req)
        pairs = list(zip(table["material"], table["stage"], strict=True))
        rows = production_rows(atlas, pairs, req.year)
    meta = RunMetadata(
        data_editions=editions_read(atlas, production=rows, tables=("wgi", "trade")),
        parameters=ps.used([*PARAMETER_NAMES, "edition_revision_note_share"]) | req.model_dump(),
        parameter_digest=ps.digest(),
    )
    return ExposureResult(req, table, detail, meta)
