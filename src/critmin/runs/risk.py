"""The risk question: the loss distribution of random export restrictions over every modelled material
(CLI ``critmin risk``, the ``montecarlo`` job, the scenario lab)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.provenance import RunMetadata
from critmin.runs.editions import editions_read
from critmin.runs.shock import model_editions
from critmin.serialize import plain

_R = options().risk


class RiskRequest(BaseModel):
    """Monte Carlo size, seed, horizon and backend; whose loss is ranked; parameter draws; as-of month."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    n_scenarios: int = Field(default=_R.scenarios.default, ge=_R.scenarios.min, le=_R.scenarios.max)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    horizon_months: int = Field(
        default=_R.horizon_months.default, ge=_R.horizon_months.min, le=_R.horizon_months.max
    )
    backend: Literal["local", "dask"] = options().backend
    scheduler: str | None = options().dask_scheduler
    chunk_size: int = Field(default=_R.chunk_size.default, ge=1, le=_R.chunk_size.max)
    perspective: str | None = Field(default=None, description="ISO3 code or group (None: the world)")
    param_draws: int = Field(default=40, ge=0, le=10_000)
    as_of: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$", description="as-of month YYYY-MM")
    keep_scenarios: bool = Field(
        default=False, description="keep the per-scenario arrays (memory grows with n_scenarios)"
    )

    @model_validator(mode="after")
    def _scheduler_means_dask(self) -> RiskRequest:
        if self.scheduler is not None and self.backend != "dask":
            return self.model_copy(update={"backend": "dask"})
        return self


@dataclass(frozen=True)
class RiskResult:
    """Summaries (labelled pandas) and the loss of every scenario as a [scenario, material] frame."""

    request: RiskRequest
    mc: Any  # critmin.disruption.montecarlo.MonteCarloResult
    metadata: RunMetadata

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(self.mc.summary)

    @property
    def member_summary(self) -> pd.DataFrame:
        return pd.DataFrame(self.mc.member_summary)

    @property
    def excluded(self) -> pd.DataFrame:
        """Materials left out (no price): material, reason, p_disrupted, expected_shortfall_t."""
        return pd.DataFrame(self.mc.excluded)

    def loss_frame(self) -> pd.DataFrame:
        """World loss, USD: rows = scenarios, columns = materials (needs ``keep_scenarios``)."""
        if self.mc.loss_usd is None:
            raise ValueError("loss_frame: the scenarios were not kept; run with keep_scenarios=True")
        frame = pd.DataFrame(self.mc.loss_usd, columns=self.mc.materials)
        frame.index.name = "scenario"
        return frame

    def scenario_frame(self) -> pd.DataFrame:
        """The disrupted (scenario, material) pairs, one row each (needs ``keep_scenarios``): restricting
        country, world loss and its parts (USD), shortfall (t), highest outside price index, parameter
        set. A pair not listed is the baseline: no restriction, no loss, price 1."""
        mc = self.mc
        if mc.loss_usd is None or mc.restrictor is None:
            raise ValueError("scenario_frame: the scenarios were not kept; run with keep_scenarios=True")
        s, m = np.nonzero(mc.restrictor >= 0)
        names = np.array(mc.restrictor_countries, dtype=object)
        sets = mc.extra.get("param_set")
        frame = pd.DataFrame(
            {
                "scenario": s.astype(np.int64),
                "material": pd.Categorical.from_codes(m, categories=mc.materials),
                "restrictor": pd.Categorical(names[mc.restrictor[s, m]], categories=mc.restrictor_countries),
                "loss_usd": mc.loss_usd[s, m],
                **{k: v[s, m] for k, v in mc.extra["loss_parts_usd"].items()},
                "shortfall_t": mc.shortfall_total_t[s, m],
                "max_price_index": mc.max_price_outside[s, m],
                "param_set": (np.full(s.size, -1) if sets is None else sets[s]).astype(np.int32),
            }
        )
        return frame

    def write_parquet(self, path: Path) -> None:
        """:meth:`loss_frame` to Parquet, written whole or not at all."""
        _atomic_parquet(self.loss_frame(), path, {"n_scenarios": str(self.request.n_scenarios)})

    def write_scenarios(self, path: Path) -> None:
        """:meth:`scenario_frame` to Parquet (the run's scenario count in the file's metadata)."""
        _atomic_parquet(self.scenario_frame(), path, {"n_scenarios": str(self.request.n_scenarios)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: both summaries, the excluded materials and the metadata."""
        from critmin.disruption.simulate import LOSS_NOTE

        out: dict[str, Any] = plain(
            {
                "question": "risk",
                "backend": self.request.backend,
                "perspective": self.request.perspective or "world",
                "loss_includes": LOSS_NOTE,
                "summary": self.mc.summary,
                "member_summary": self.mc.member_summary,
                "excluded": self.mc.excluded,
            }
        )
        return out | {"metadata": self.metadata.model_dump(mode="json")}


def _atomic_parquet(frame: pd.DataFrame, path: Path, meta: dict[str, str]) -> None:
    """Write ``frame`` to ``path`` whole or not at all, with ``meta`` in the schema's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), **{"critmin." + k: v for k, v in meta.items()}}
    )
    tmp = path.with_name(path.name + ".part")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def run(
    request: RiskRequest,
    *,
    atlas: Any = None,
    params: ParameterSet | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RiskResult:
    """Run the Monte Carlo (raises ``InputError`` / ``ValueError`` on bad data or a bad perspective)."""
    from critmin.disruption.montecarlo import run_monte_carlo

    ps = params or ParameterSet()
    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    r = request
    mc = run_monte_carlo(
        atlas,
        r.n_scenarios,
        r.seed,
        r.horizon_months,
        backend=r.backend,
        scheduler=r.scheduler,
        chunk_size=r.chunk_size,
        params=ps,
        progress=progress,
        perspective=r.perspective,
        param_draws=r.param_draws,
        as_of=r.as_of,
        keep_scenarios=r.keep_scenarios,
    )
    editions = model_editions(atlas, list(mc.materials)) | editions_read(atlas, tables=("wgi",))
    meta = mc.metadata.model_copy(update={"data_editions": editions})
    return RiskResult(r, mc, meta)
