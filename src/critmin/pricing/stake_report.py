"""A member's stake in joining: what it risks with China and what the zone gives it, in USD per year.

For member ``m`` of the joining group ``G`` (docs/methods/mechanisms.md, members' stake)::

    exports at risk      X_m = BACI exports of m to China, every HS6 code of the bundled BACI (latest year)
    export loss          (1 - redirect) * X_m                      (China stops buying from members that join)
    retaliation loss     p * sum_i loss_i * s_im                   (China restricts exports to G: the engine)
    levy collected       L = sum_m tau_i * M_im * (1 + tau_i) ** e  (on imports from China, at each border)
    price uplift         U = sum_m tau_i * value of m's own output of i  (sold at the levied price)
    levy paid            importers L * s_imp_m + consumers U * s_imp_m   (consumers buy as they import)
    levy received        treasury L * s_imp_m + producers U * s_out_m    (levy_incidence: columns sum to L, U)
    Vault allocation     C * share of m in G's imports from China  (pro rata, as the Vault's emergency rule)
    net                  levy received - levy paid + Vault allocation - export loss - retaliation loss

``loss_i`` is the engine's loss on material ``i`` under the retaliation scenario, ``s_im`` the member's share
of it (its share of the targeted shortfall, else of the targeted imports), ``p`` the retaliation probability
and ``C`` the Vault's capital (EXIM loan + private capital, vault.csv).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmin.disruption.simulate import ShockResult
from critmin.parameters import ParameterSet
from critmin.pricing.stake import CHINA, members_stake
from critmin.provenance import RunMetadata

REPORT_COLUMNS = [
    "iso3",
    "exports_to_china_usd",
    "export_loss_usd",
    "retaliation_loss_usd",
    "levy_paid_usd",
    "levy_received_usd",
    "vault_allocation_usd",
    "net_usd",
]
STAKE_REPORT_PARAMETERS = [
    "stake_retaliation_redirect_share",
    "stake_retaliation_probability",
    "retaliation_share",
    "retaliation_months",
    "vault_exim_loan_usd",
    "vault_private_capital_usd",
]


def levy_incidence(
    collected_usd: float,
    uplift_usd: float,
    import_share: pd.Series,
    output_share: pd.Series,
    consumption_share: pd.Series,
) -> pd.DataFrame:
    """Per member: importers pay the levy collected (by import share) and the member's treasury receives it;
    consumers pay the price uplift on member output (by consumption share), member producers receive it
    (by output share). Each column sums to the alliance total."""
    shares = {"import": import_share, "output": output_share, "consumption": consumption_share}
    members = sorted(set().union(*(s.index for s in shares.values())))
    aligned = {}
    for name, s in shares.items():
        a = s.reindex(members).fillna(0.0).astype(float)
        if (a < 0).any() or not np.isclose(a.sum(), 1.0):
            raise ValueError(f"{name} shares: sum {a.sum():.6g}; expected shares >= 0 summing to 1")
        aligned[name] = a
    out = pd.DataFrame(
        {
            "importers_pay_usd": collected_usd * aligned["import"],
            "treasury_receives_usd": collected_usd * aligned["import"],
            "consumers_pay_uplift_usd": uplift_usd * aligned["consumption"],
            "producers_receive_usd": uplift_usd * aligned["output"],
        }
    )
    out["net_usd"] = (
        out["treasury_receives_usd"]
        + out["producers_receive_usd"]
        - out["importers_pay_usd"]
        - out["consumers_pay_uplift_usd"]
    )
    return out.rename_axis("iso3")


def member_shares(atlas: Any, members: Collection[str], material: str) -> tuple[pd.Series, pd.Series]:
    """Each member's share of the group's imports of ``material`` from non-members (BACI value, latest year)
    and of the group's output of it (atlas, refine stage if modelled, else mine; latest year)."""
    mem = sorted(set(members) - {CHINA})
    t = atlas.trade[atlas.trade["material"] == material]
    t = t[t["year"] == t["year"].max()] if len(t) else t
    imp = t[t["importer"].isin(mem) & ~t["exporter"].isin(mem)].groupby("importer")["value_usd"].sum()
    stages = [s for s in ("refine", "mine") if s in atlas.stages_of(material)]
    out = pd.Series(0.0, index=mem)
    if stages and atlas.years_of(material, stages[0]):
        s = atlas.stage_series(material, stages[0], max(atlas.years_of(material, stages[0])))
        out = s[s.index.isin(mem)].reindex(mem, fill_value=0.0)
    return _shares(imp.reindex(mem, fill_value=0.0)), _shares(out.astype(float))


def output_value(atlas: Any, members: Collection[str], materials: Collection[str]) -> pd.Series:
    """USD value of each member's output of ``materials`` (latest atlas year x latest USGS price)."""
    rows = []
    prices = atlas.prices.sort_values("year").groupby("material")["usd_per_t"].last()
    for m in materials:
        if m not in prices.index:
            continue
        for stage in atlas.stages_of(m):
            years = atlas.years_of(m, stage)
            if not years:
                continue
            s = atlas.stage_series(m, stage, max(years))
            s = s[s.index.isin(list(members))]
            rows.append((s * float(prices[m])).rename(m))
            break  # the first (upstream) modelled stage carries the material's price basis
    if not rows:
        return pd.Series(0.0, index=sorted(members))
    return pd.concat(rows, axis=1).fillna(0.0).sum(axis=1).reindex(sorted(members), fill_value=0.0)


def retaliation_loss_share(shock: ShockResult, imports_from_china: pd.DataFrame) -> pd.DataFrame:
    """``[material, member]`` USD of the engine's loss borne by each targeted member."""
    rows = {}
    for m in shock.named:
        i = shock.row(m)
        short = pd.Series(shock.member_shortfall_t[i], index=shock.members)
        if short.sum() > 0:
            share = short / short.sum()
        else:
            imp = imports_from_china[imports_from_china["material"] == m].set_index("iso3")["usd"]
            share = imp / imp.sum() if imp.sum() > 0 else imp * 0.0
        rows[m] = float(np.nan_to_num(shock.loss_usd[i])) * share
    return pd.DataFrame(rows).T.fillna(0.0) if rows else pd.DataFrame()


@dataclass(frozen=True)
class StakeReport:
    """All members side by side (``members``), one member's detail, the codes at risk, and metadata."""

    members: pd.DataFrame  # REPORT_COLUMNS, one row per member of the group
    exports_at_risk: pd.DataFrame  # iso3, hs6, material, stage, value_usd
    retaliation_by_material: pd.DataFrame  # material x member, USD
    levy_incidence: pd.DataFrame  # iso3, importers/treasury/consumers/producers USD, net
    scenario: str
    year: int
    metadata: RunMetadata = field(default_factory=RunMetadata)

    def member(self, iso3: str) -> dict[str, Any]:
        """One member's stake: the summary row and its exports to China by HS6 code."""
        row = self.members.set_index("iso3")
        if iso3 not in row.index:
            raise ValueError(f"member: {iso3!r} is not in the group ({', '.join(row.index)})")
        codes = self.exports_at_risk[self.exports_at_risk["iso3"] == iso3]
        return {
            "iso3": iso3,
            **{str(k): float(v) for k, v in row.loc[iso3].to_dict().items()},
            "exports_at_risk": codes.drop(columns="iso3").to_dict(orient="records"),
        }


def stake_report(
    atlas: Any,
    group: Collection[str],
    shock: ShockResult,
    *,
    levy_rate: float = 0.0,
    year: int | None = None,
    params: ParameterSet | None = None,
) -> StakeReport:
    """The stake of every member of ``group`` given the engine's retaliation scenario ``shock``."""
    params = params or ParameterSet()
    mem = sorted(set(group) - {CHINA})
    base = members_stake(atlas.trade, mem, levy_rate=levy_rate, year=year, params=params)
    t = atlas.trade[atlas.trade["year"] == base.year]
    codes = t[(t["importer"] == CHINA) & t["exporter"].isin(mem)]
    codes = codes.rename(columns={"exporter": "iso3"})[["iso3", "hs6", "material", "stage", "value_usd"]]
    codes = codes.groupby(["iso3", "hs6", "material", "stage"], as_index=False)["value_usd"].sum()
    imp = base.by_material.rename(columns={"imports_from_china_usd": "usd"})[["iso3", "material", "usd"]]
    by_mat = retaliation_loss_share(shock, imp)
    prob = params.get("stake_retaliation_probability")
    ret = by_mat.sum(axis=0).reindex(mem, fill_value=0.0) * prob if len(by_mat) else pd.Series(0.0, index=mem)
    per = base.members.set_index("iso3").reindex(mem)
    levied = sorted(base.by_material["material"].unique())
    paid = per["levy_paid_usd"]
    uplift = levy_rate * output_value(atlas, mem, levied)
    inc = levy_incidence(
        float(paid.sum()), float(uplift.sum()), _shares(paid), _shares(uplift), _shares(paid)
    )
    inc = inc.reindex(mem)
    imports = per["imports_from_china_usd"]
    capital = params.get("vault_exim_loan_usd") + params.get("vault_private_capital_usd")
    vault = capital * imports / imports.sum() if imports.sum() > 0 else imports * 0.0
    out = pd.DataFrame(
        {
            "exports_to_china_usd": per["exports_to_china_usd"],
            "export_loss_usd": per["retaliation_export_loss_usd"],
            "retaliation_loss_usd": ret,
            "levy_paid_usd": inc["importers_pay_usd"] + inc["consumers_pay_uplift_usd"],
            "levy_received_usd": inc["treasury_receives_usd"] + inc["producers_receive_usd"],
            "vault_allocation_usd": vault,
        }
    )
    out["net_usd"] = (
        out["levy_received_usd"]
        - out["levy_paid_usd"]
        + out["vault_allocation_usd"]
        - out["export_loss_usd"]
        - out["retaliation_loss_usd"]
    )
    out = out.rename_axis("iso3").reset_index()[REPORT_COLUMNS]
    meta = RunMetadata(
        data_editions=base.metadata.data_editions | shock.metadata.data_editions,
        parameters=params.used(STAKE_REPORT_PARAMETERS) | base.metadata.parameters,
        parameter_digest=params.digest(),
    )
    return StakeReport(out, codes, by_mat, inc.reset_index(), shock.scenario.name, base.year, meta)


def _shares(s: pd.Series) -> pd.Series:
    """``s`` as shares of its total (equal shares when the total is 0: every amount split is then 0)."""
    total = float(s.sum())
    return s / total if total > 0 else pd.Series(1.0 / len(s), index=s.index)
