"""Burden sharing: split a plan's capex among members by a rule, with the supply each member secures.

Rules (no invented data: GDP is not bundled, so the GDP rule needs user-supplied figures):

* ``equal``: every member pays the same share of every project;
* ``pledges``: shares proportional to user-given pledges (USD, any scale);
* ``gdp``: shares proportional to user-given GDP figures;
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
            what = "pledges (USD)" if rule == "pledges" else "GDP figures (none are bundled)"
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
