"""Data side of the capacity-expansion MILP: targets, the problem, dense coefficients, target rows, and the
supply a schedule gives. Pure numpy/pandas (no solver); :mod:`critmin.optimize.expansion` builds and solves
the model from these (the formulation is in its docstring and in ``docs/methods/planning.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

CHINA = "CHN"
PROJECT_FIELDS = [
    "country_iso3",
    "capacity_t",
    "capex_usd",
    "unit_opex_usd_per_t",
    "lead_time_years",
    "ramp_up_years",
    "earliest_start",
]


@dataclass(frozen=True)
class Target:
    """One supply target, holding in every year from ``by`` to the end of the horizon.

    ``kind``:
    * ``non_china_share``: non-China share of supply >= ``value``;
    * ``third_country_cap``: no single country outside the alliance above ``value`` of supply;
    * ``alliance_self_sufficiency``: alliance output >= ``value`` x alliance demand (``alliance_demand_t``
      in the baseline year, grown with the demand index).
    """

    kind: Literal["non_china_share", "third_country_cap", "alliance_self_sufficiency"]
    value: float
    by: int
    alliance_demand_t: float | None = None

    def describe(self) -> str:
        """Plain-language statement of the target."""
        if self.kind == "non_china_share":
            return f"non-China share of supply >= {self.value:.0%} from {self.by}"
        if self.kind == "third_country_cap":
            return f"no single third country above {self.value:.0%} of supply from {self.by}"
        return f"alliance output >= {self.value:.0%} of alliance demand from {self.by}"


@dataclass(frozen=True)
class ExpansionProblem:
    """Inputs of one expansion plan, aligned by label (projects by id, baseline by ISO3, demand by year).

    ``projects``: index ``project_id``, columns :data:`PROJECT_FIELDS`. ``baseline``: tonnes by ISO3
    (``OTH`` and combined ``A+B`` rows allowed) in the baseline year. ``demand_index``: demand relative to
    the baseline year for each plan year (1.0 = flat). ``budget_per_year``: USD of capex a year, ``None``
    for no limit.
    """

    years: tuple[int, ...]
    projects: pd.DataFrame
    baseline: pd.Series
    demand_index: pd.Series
    alliance: frozenset[str]
    targets: tuple[Target, ...]
    budget_per_year: float | None = None
    discount_rate: float = 0.0
    #: groups of project ids of which at most ``cap`` may start in any one year (know-how constraints)
    start_caps: tuple[tuple[tuple[str, ...], int], ...] = ()

    def with_budget(self, budget: float | None) -> ExpansionProblem:
        """The same problem with another annual budget."""
        return replace(self, budget_per_year=budget)

    def with_target_year(self, year: int) -> ExpansionProblem:
        """The same problem with every target due from ``year``."""
        return replace(self, targets=tuple(replace(t, by=year) for t in self.targets))


@dataclass(frozen=True)
class Arrays:
    """Dense coefficients: ``output[p,s,t]`` t, ``spend[p,s,t]`` USD, ``valid[p,s]``, ``cost[p,s]`` USD."""

    output: np.ndarray
    spend: np.ndarray
    valid: np.ndarray
    cost: np.ndarray


def ramp_fraction(k: np.ndarray, ramp_years: float) -> np.ndarray:
    """Share of capacity in operating year ``k`` (0 = first): ``min(1, (k+1)/(R+1))``, 0 for k < 0."""
    r = round(ramp_years)
    frac = np.minimum(1.0, (k + 1.0) / (r + 1.0))
    return np.where(k >= 0, frac, 0.0)


def coefficients(problem: ExpansionProblem) -> Arrays:
    """Output, spend, validity and discounted cost of every (project, start year) pair."""
    years = np.asarray(problem.years, dtype=float)
    p = problem.projects
    missing = [c for c in PROJECT_FIELDS if c not in p.columns]
    if missing:
        raise ValueError(f"projects table lacks columns {missing}")
    for col in PROJECT_FIELDS[1:]:
        bad = p.index[~np.isfinite(p[col].to_numpy(dtype=float))]
        if len(bad):
            raise ValueError(f"project {bad[0]!r}: column {col} is not a finite number")
    n, ny = len(p), len(years)
    s = years[:, None]  # start year (S, 1)
    t = years[None, :]  # year (1, T)
    output = np.zeros((n, ny, ny))
    spend = np.zeros((n, ny, ny))
    valid = np.zeros((n, ny), dtype=bool)
    last = years[-1]
    for i, row in enumerate(p[PROJECT_FIELDS[1:]].itertuples(index=False)):
        cap, capex, _opex, lead, ramp, earliest = (float(v) for v in row)
        lead_i = math.ceil(lead - 1e-9)
        output[i] = cap * ramp_fraction(t - s - lead_i, ramp)
        build = max(lead_i, 1)
        in_build = (t >= s) & (t < s + build)
        spend[i] = np.where(in_build, capex / build, 0.0)
        valid[i] = (years >= earliest) & (years + lead_i <= last)
    disc = (1.0 + problem.discount_rate) ** -(years - years[0])
    opex = problem.projects["unit_opex_usd_per_t"].to_numpy(dtype=float)
    cost = (spend * disc).sum(axis=2) + opex[:, None] * (output * disc).sum(axis=2)
    output[~valid] = 0.0
    spend[~valid] = 0.0
    return Arrays(output, spend, valid, np.where(valid, cost, 0.0))


@dataclass(frozen=True)
class ShareRows:
    """Target constraints as ``coef[p, s, t] . x >= rhs[t]`` rows (one block per target component)."""

    name: str
    target: Target
    coef: np.ndarray
    rhs: np.ndarray
    years: np.ndarray
    per_tonne: float


def _single(code: str) -> bool:
    return "+" not in code and code not in {"OTH", "WLD"}


def target_rows(problem: ExpansionProblem, arrays: Arrays) -> list[ShareRows]:
    """Linear rows for every target in every year it applies (see the module docstring)."""
    base = problem.baseline.astype(float)
    if not np.isfinite(base.to_numpy()).all() or (base < 0).any():
        raise ValueError("baseline tonnes must be finite and non-negative")
    b = float(base.sum())
    if b <= 0:
        raise ValueError("baseline supply is zero: the shares are undefined")
    years = np.asarray(problem.years)
    g = problem.demand_index.reindex(problem.years).to_numpy(dtype=float)
    if np.isnan(g).any():
        raise ValueError("demand_index must give a value for every plan year")
    d = b * g
    host = problem.projects["country_iso3"].to_numpy()
    out = arrays.output
    rows: list[ShareRows] = []
    for k, tgt in enumerate(problem.targets):
        sel = years >= tgt.by
        yrs = years[sel]
        o = out[:, :, sel]
        if tgt.kind == "non_china_share":
            x_share = tgt.value
            nc = np.array([h != CHINA for h in host], dtype=float)[:, None, None]
            b_nc = float(base.drop(CHINA, errors="ignore").sum())
            s_nc = b_nc / b
            rows.append(
                ShareRows(
                    f"t{k}_nonchina_a",
                    tgt,
                    o * nc - x_share * o,
                    np.full(sel.sum(), x_share * b - b_nc),
                    yrs,
                    1 - x_share,
                )
            )
            rows.append(
                ShareRows(
                    f"t{k}_nonchina_b", tgt, o * nc - s_nc * o, (x_share - s_nc) * d[sel], yrs, 1 - s_nc
                )
            )
        elif tgt.kind == "third_country_cap":
            cap = tgt.value
            third = [c for c in base.index if _single(c) and c not in problem.alliance]
            hosts = sorted({h for h in host if h not in problem.alliance})
            no_proj = [c for c in third if c not in hosts]
            checked = list(hosts)
            if no_proj:
                checked.append(max(no_proj, key=lambda c: float(base[c])))
            for c in checked:
                b_c = float(base.get(c, 0.0))
                s_c = b_c / b
                in_c = np.array([h == c for h in host], dtype=float)[:, None, None]
                # (a) b_c + N_c <= cap (B + N)  ->  cap N - N_c >= b_c - cap B
                rows.append(
                    ShareRows(
                        f"t{k}_cap_{c}_a",
                        tgt,
                        cap * o - o * in_c,
                        np.full(sel.sum(), b_c - cap * b),
                        yrs,
                        cap,
                    )
                )
                # (b) s_c (D - N) + N_c <= cap D  ->  s_c N - N_c >= (s_c - cap) D
                rows.append(
                    ShareRows(f"t{k}_cap_{c}_b", tgt, s_c * o - o * in_c, (s_c - cap) * d[sel], yrs, s_c)
                )
        else:
            if tgt.alliance_demand_t is None or tgt.alliance_demand_t <= 0:
                raise ValueError(
                    "alliance_self_sufficiency needs a positive alliance_demand_t (no bundled data)"
                )
            ally = np.array([h in problem.alliance for h in host], dtype=float)[:, None, None]
            b_a = float(base[[c for c in base.index if c in problem.alliance]].sum())
            s_a = b_a / b
            need = tgt.value * tgt.alliance_demand_t * g[sel]
            rows.append(ShareRows(f"t{k}_ally_a", tgt, o * ally, need - b_a, yrs, 1.0))
            rows.append(ShareRows(f"t{k}_ally_b", tgt, o * ally - s_a * o, need - s_a * d[sel], yrs, 1 - s_a))
    return rows


def evaluate_schedule(problem: ExpansionProblem, starts: pd.Series) -> pd.DataFrame:
    """Supply by year for a schedule ``project_id -> start year`` (NaN = not started).

    Columns: ``year, new_t, baseline_t, demand_t, non_china_share_a, non_china_share_b,
    max_third_country_share, max_third_country, alliance_t, capex_usd``.
    """
    arrays = coefficients(problem)
    years = np.asarray(problem.years)
    x = np.zeros(arrays.valid.shape)
    for i, pid in enumerate(problem.projects.index):
        s = starts.get(pid, np.nan)
        if s is not None and np.isfinite(s):
            x[i, int(np.searchsorted(years, s))] = 1.0
    out = np.einsum("ps,pst->pt", x, arrays.output)
    spend = np.einsum("ps,pst->t", x, arrays.spend)
    host = problem.projects["country_iso3"].to_numpy()
    base = problem.baseline.astype(float)
    b = float(base.sum())
    g = problem.demand_index.reindex(problem.years).to_numpy(dtype=float)
    d = b * g
    n = out.sum(axis=0)
    nc = out[host != CHINA].sum(axis=0)
    b_nc = float(base.drop(CHINA, errors="ignore").sum())
    countries = sorted({c for c in base.index if _single(c)} | set(host))
    shares_a = {}
    shares_b = {}
    for c in countries:
        if c in problem.alliance:
            continue
        n_c = out[host == c].sum(axis=0)
        b_c = float(base.get(c, 0.0))
        shares_a[c] = (b_c + n_c) / (b + n)
        shares_b[c] = (b_c / b * (d - n) + n_c) / d
    if shares_a:
        stack = np.vstack([np.maximum(shares_a[c], shares_b[c]) for c in shares_a])
        top = stack.argmax(axis=0)
        names = list(shares_a)
        max_share = stack.max(axis=0)
        max_name = [names[i] for i in top]
    else:
        max_share = np.zeros(len(years))
        max_name = [""] * len(years)
    ally = out[[h in problem.alliance for h in host]].sum(axis=0)
    b_a = float(base[[c for c in base.index if c in problem.alliance]].sum())
    return pd.DataFrame(
        {
            "year": years,
            "new_t": n,
            "baseline_t": b,
            "demand_t": d,
            "non_china_share_a": (b_nc + nc) / (b + n),
            "non_china_share_b": (b_nc / b * (d - n) + nc) / d,
            "max_third_country_share": max_share,
            "max_third_country": max_name,
            "alliance_t": b_a + ally,
            "capex_usd": spend,
        }
    )


def project_output(problem: ExpansionProblem, starts: pd.Series, year: int) -> pd.Series:
    """Output in ``year`` (t) of each scheduled project, ``starts``: project_id -> start year."""
    arrays = coefficients(problem)
    years = list(problem.years)
    t = years.index(year)
    pos = {pid: i for i, pid in enumerate(problem.projects.index)}
    vals = [float(arrays.output[pos[pid], years.index(int(s)), t]) for pid, s in starts.items()]
    return pd.Series(vals, index=starts.index, dtype=float)


def _earliest_schedule(problem: ExpansionProblem, arrays: Arrays, keep: np.ndarray) -> np.ndarray:
    """x with every kept project started at its earliest valid year (the most output in every year)."""
    x = np.zeros(arrays.valid.shape)
    for i in np.flatnonzero(keep):
        ok = np.flatnonzero(arrays.valid[i])
        if len(ok):
            x[i, ok[0]] = 1.0
    return x


def capacity_shortfalls(problem: ExpansionProblem) -> pd.DataFrame:
    """Per target and year: tonnes of extra capacity needed even with every helpful project at its earliest.

    Helpful = every project whose output raises the target's left-hand side (non-China projects for the
    non-China share, projects outside the capped country for the cap, alliance projects for
    self-sufficiency). Rows only where the shortfall is positive; the budget is ignored here.
    """
    arrays = coefficients(problem)
    out_rows = []
    for rows in target_rows(problem, arrays):
        helpful = np.asarray((rows.coef > 0).any(axis=(1, 2)), dtype=bool)
        x = _earliest_schedule(problem, arrays, helpful)
        lhs = np.einsum("ps,pst->t", x, rows.coef)
        gap = rows.rhs - lhs
        per_t = rows.per_tonne if rows.per_tonne > 0 else 1.0
        for yr, gp in zip(rows.years, gap, strict=True):
            if gp > 1e-6 * max(1.0, abs(float(rows.rhs.max()))):
                out_rows.append(
                    {
                        "target": rows.target.describe(),
                        "constraint": rows.name,
                        "accounting": "incumbents hold" if rows.name.endswith("_a") else "supply = demand",
                        "year": int(yr),
                        "shortfall_t": float(gp / per_t),
                        "helpful_projects": int(helpful.sum()),
                    }
                )
    cols = ["target", "constraint", "accounting", "year", "shortfall_t", "helpful_projects"]
    return pd.DataFrame(out_rows, columns=cols)
