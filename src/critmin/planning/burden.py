"""Burden sharing: split a plan's capex among members by a rule, with the supply each member secures.

Rules:

* ``equal``: every member pays the same share of every project;
* ``pledges``: shares proportional to user-given pledges (USD, any scale);
* ``gdp``: shares proportional to GDP: user-given figures, or World Bank WDI GDP (current USD) from the
  atlas table ``gdp`` (columns ``iso3, year, gdp_usd``) through :func:`gdp_weights`;
* ``host``: a project is paid by its host country when the host is a member; projects hosted outside the
  member list are split equally among members.

The supply a member secures from a project is its funding share of that project's output (offtake in
proportion to funding), summed over the chosen projects for the given year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

Rule = Literal["equal", "pledges", "gdp", "host"]


def funding_shares(
    schedule: pd.DataFrame,
    members: Sequence[str],
    rule: Rule,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Matrix project x member of funding shares (each project row sums to 1)."""
    if not members:
        raise ValueError("burden sharing needs at least one member")
    if len(set(members)) != len(members):
        raise ValueError("members must be unique")
    pids = schedule["project_id"].tolist()
    if rule in ("pledges", "gdp"):
        if weights is None:
            what = "pledges (USD)" if rule == "pledges" else "GDP figures (see gdp_weights)"
            raise ValueError(f"rule {rule!r} needs user-supplied {what} for every member")
        missing = [m for m in members if m not in weights]
        if missing:
            raise ValueError(f"rule {rule!r}: no value for members {missing}")
        w = np.array([float(weights[m]) for m in members])
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(f"rule {rule!r}: values must be finite, >= 0 and not all zero")
        row = w / w.sum()
        mat = np.tile(row, (len(pids), 1))
    elif rule == "equal":
        mat = np.full((len(pids), len(members)), 1.0 / len(members))
    elif rule == "host":
        mat = np.zeros((len(pids), len(members)))
        for i, host in enumerate(schedule["country_iso3"]):
            if host in members:
                mat[i, list(members).index(host)] = 1.0
            else:
                mat[i, :] = 1.0 / len(members)
    else:
        raise ValueError(f"unknown rule {rule!r}; expected equal, pledges, gdp or host")
    return pd.DataFrame(mat, index=pd.Index(pids, name="project_id"), columns=list(members))


def share_burden(
    schedule: pd.DataFrame,
    output_t: pd.Series,
    members: Sequence[str],
    rule: Rule,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Per member: funding share, capex contribution (USD) and supply secured (t a year).

    ``schedule`` has ``project_id, country_iso3, capex_usd``; ``output_t`` is each chosen project's output
    in the year of interest (index ``project_id``). Contributions sum to the plan's capex and secured
    supply to the plan's output.
    """
    shares = funding_shares(schedule, members, rule, weights)
    capex = schedule.set_index("project_id")["capex_usd"].reindex(shares.index)
    out = output_t.reindex(shares.index)
    if capex.isna().any() or out.isna().any():
        raise ValueError("every scheduled project needs capex_usd and an output value")
    contrib = shares.mul(capex, axis=0).sum(axis=0)
    secured = shares.mul(out, axis=0).sum(axis=0)
    total = float(capex.sum())
    return pd.DataFrame(
        {
            "member": list(members),
            "share_of_capex": (contrib / total).to_numpy() if total > 0 else np.zeros(len(members)),
            "contribution_usd": contrib.to_numpy(),
            "secured_t": secured.to_numpy(),
        }
    )


def gdp_weights(
    gdp: pd.DataFrame, members: Sequence[str], year: int | None = None
) -> tuple[dict[str, float], int]:
    """``({member: GDP USD}, year)`` from a WDI-shaped table (``iso3, year, gdp_usd``).

    Without ``year``, the latest year in which every member has a value. A member with no GDP in the table
    (e.g. Taiwan, which WDI does not cover) is an error naming it.
    """
    for col in ("iso3", "year", "gdp_usd"):
        if col not in gdp.columns:
            raise ValueError(f"GDP table lacks column {col!r}; expected iso3, year, gdp_usd")
    rows = gdp[gdp["iso3"].isin(list(members)) & gdp["gdp_usd"].notna()]
    missing = [m for m in members if m not in set(rows["iso3"])]
    if missing:
        raise ValueError(f"rule 'gdp': no World Bank WDI GDP for members {missing}; give --weights instead")
    per_year = rows.groupby("year")["iso3"].nunique()
    complete = per_year[per_year == len(set(members))].index
    if year is None:
        if not len(complete):
            raise ValueError(f"rule 'gdp': no single year with GDP for every member of {list(members)}")
        year = int(max(complete))
    elif year not in set(complete):
        raise ValueError(
            f"rule 'gdp': year {year} lacks GDP for some members; years with all: {list(complete)}"
        )
    sel = rows[rows["year"] == year].set_index("iso3")["gdp_usd"].astype(float)
    return {m: float(sel[m]) for m in members}, year
