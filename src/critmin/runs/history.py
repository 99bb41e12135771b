"""The history question: the top producers' shares of one material and stage over time, observed beside
the IEA projections (CLI ``critmin history``, the material page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata
from critmin.runs.editions import title
from critmin.serialize import plain


class HistoryRequest(BaseModel):
    """Material, stage and how many producers are named (the rest pooled as REST)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    material: str = Field(min_length=1)
    stage: str = "mine"
    top: int = Field(default=5, ge=1, le=1000)

    @field_validator("stage")
    @classmethod
    def _stage_word(cls, v: str | None) -> str | None:
        """``mining`` -> ``mine``, ``refining``/``separation`` -> ``refine`` (atlas.schema.STAGE_ALIASES)."""
        from critmin.atlas.schema import canonical_stage

        return None if v is None else canonical_stage(v)


@dataclass(frozen=True)
class HistoryResult:
    """``long``: year, kind, iso3, tonnes, share, edition, source; ``wide()``: one row per year."""

    request: HistoryRequest
    long: pd.DataFrame
    metadata: RunMetadata

    def wide(self) -> pd.DataFrame:
        """One row per year and kind, a share column per producer."""
        from critmin.analytics.history import share_table

        return share_table(self.long)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the long table's rows and the metadata."""
        out: dict[str, Any] = plain({"question": "history", "request": self.request, "rows": self.long})
        return out | {"metadata": self.metadata.model_dump(mode="json")}


def run(request: HistoryRequest, *, atlas: Any = None, params: ParameterSet | None = None) -> HistoryResult:
    """Shares by year (raises ``HistoryError`` when the material or stage has no rows)."""
    from critmin.analytics.history import share_history

    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    hist = share_history(atlas, request.material, request.stage, request.top)
    keys = sorted({str(e) for e in hist["edition"].dropna()})
    meta = RunMetadata(data_editions={k: title(k) for k in keys}, parameters=request.model_dump())
    return HistoryResult(request, hist, meta)
