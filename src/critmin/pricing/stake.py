"""Members' stake in the zone: critical-mineral trade with China and how joining changes it.

For each member ``m`` (BACI values, USD, one year of the atlas ``trade`` table)::

    X_m = exports of m to China,  M_m = imports of m from China
    levy (ad-valorem equivalent tau on non-member supply, import demand elasticity e <= 0):
        imports from China become  M_m * (1 + tau) ** e   (value at border prices)
        levy paid on them          tau * M_m * (1 + tau) ** e
    retaliation (China stops buying from members that join; a share r of the lost sales is redirected):
        export loss                (1 - r) * X_m

Documented in docs/methods/mechanisms.md (members' stake).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from critmin.parameters import ParameterError, ParameterSet
from critmin.provenance import DATA_EDITIONS, RunMetadata

CHINA = "CHN"
STAKE_COLUMNS = [
    "iso3",
    "exports_to_china_usd",
    "imports_from_china_usd",
    "exports_total_usd",
    "share_of_exports_to_china",
    "levy_import_change_usd",
    "levy_paid_usd",
    "retaliation_export_loss_usd",
    "retaliation_loss_pct_of_exports",
]


@dataclass(frozen=True)
class StakeResult:
    """One row per member (``STAKE_COLUMNS``), the per-material detail and the run metadata."""

    members: pd.DataFrame
    by_material: pd.DataFrame
    year: int
    metadata: RunMetadata = field(default_factory=RunMetadata)


def import_demand_elasticity(params: ParameterSet) -> float:
    """Long-run demand elasticity from the market parameters, else the pricing fallback."""
    try:
        return params.get("price_elasticity_demand_long_run")
    except ParameterError:
        return params.get("stake_import_demand_elasticity")


def _levy_detail(
    t: pd.DataFrame, mem: list[str], levy_rate: float | Mapping[str, float], eps: float, redirect: float
) -> pd.DataFrame:
    """Per (member, material): trade with China, the levy's effect on imports and the retaliation loss."""
    exp_cn = t[(t["importer"] == CHINA) & t["exporter"].isin(mem)].groupby(["exporter", "material"])[
        "value_usd"
    ]
    imp_cn = t[(t["exporter"] == CHINA) & t["importer"].isin(mem)].groupby(["importer", "material"])[
        "value_usd"
    ]
    detail = pd.concat(
        {
            "exports_to_china_usd": exp_cn.sum().rename_axis(["iso3", "material"]),
            "imports_from_china_usd": imp_cn.sum().rename_axis(["iso3", "material"]),
        },
        axis=1,
    ).fillna(0.0)
    detail = detail.reset_index()
    if isinstance(levy_rate, Mapping):
        rates = detail["material"].map(lambda m: float(levy_rate.get(m, 0.0)))
    else:
        rates = pd.Series(float(levy_rate), index=detail.index)
    if (rates < 0).any() or not np.isfinite(rates).all():
        raise ValueError("levy_rate: expected finite rates >= 0")
    kept = detail["imports_from_china_usd"] * (1.0 + rates) ** eps
    detail["levy_rate"] = rates
    detail["levy_import_change_usd"] = kept - detail["imports_from_china_usd"]
    detail["levy_paid_usd"] = rates * kept
    detail["retaliation_export_loss_usd"] = (1.0 - redirect) * detail["exports_to_china_usd"]

    return detail


def members_stake(
    trade: pd.DataFrame,
    members: Collection[str],
    *,
    levy_rate: float | Mapping[str, float] = 0.0,
    year: int | None = None,
    materials: Collection[str] | None = None,
    params: ParameterSet | None = None,
) -> StakeResult:
    """Trade of each member with China and its change under the levy and under Chinese retaliation.

    ``levy_rate``: ad-valorem equivalent of the levy, one number or ``{material: rate}`` (materials not
    listed get 0); ``year``: default the latest year in ``trade``; ``materials``: default all.
    """
    params = params or ParameterSet()
    eps = import_demand_elasticity(params)
    redirect = params.get("stake_retaliation_redirect_share")
    if not eps <= 0:
        raise ValueError(f"import demand elasticity: {eps}; expected <= 0")
    if not 0 <= redirect <= 1:
        raise ValueError(f"stake_retaliation_redirect_share: {redirect}; expected a share in [0, 1]")
    yr = int(trade["year"].max()) if year is None else int(year)
    t = trade[trade["year"] == yr]
    if t.empty:
        raise ValueError(f"trade: no rows for year {yr}; years available {sorted(trade['year'].unique())}")
    if materials is not None:
        t = t[t["material"].isin(list(materials))]
    mem = sorted(set(members) - {CHINA})
    detail = _levy_detail(t, mem, levy_rate, eps, redirect)
    totals = t[t["exporter"].isin(mem)].groupby("exporter")["value_usd"].sum().rename("exports_total_usd")
    per = detail.groupby("iso3")[
        [
            "exports_to_china_usd",
            "imports_from_china_usd",
            "levy_import_change_usd",
            "levy_paid_usd",
            "retaliation_export_loss_usd",
        ]
    ].sum()
    per = per.reindex(mem, fill_value=0.0).join(totals.rename_axis("iso3")).fillna({"exports_total_usd": 0.0})
    with np.errstate(invalid="ignore", divide="ignore"):
        per["share_of_exports_to_china"] = per["exports_to_china_usd"] / per["exports_total_usd"]
        per["retaliation_loss_pct_of_exports"] = (
            100.0 * per["retaliation_export_loss_usd"] / per["exports_total_usd"]
        )
    per = per.reset_index().rename(columns={"index": "iso3"})
    per = per.sort_values(["retaliation_export_loss_usd", "iso3"], ascending=[False, True]).reset_index(
        drop=True
    )
    meta = RunMetadata(
        data_editions={"baci-hs17-v202601": DATA_EDITIONS["baci-hs17-v202601"]},
        parameters=params.used(["stake_retaliation_redirect_share", "stake_import_demand_elasticity"])
        | {"import_demand_elasticity": eps, "year": yr, "levy_rate": levy_rate},
        parameter_digest=params.digest(),
    )
    return StakeResult(
        per[STAKE_COLUMNS], detail.sort_values(["iso3", "material"]).reset_index(drop=True), yr, meta
    )
