"""Capacity-expansion MILP: which projects to start in which year to meet supply targets at least cost.

Built apart from solved: :func:`build_expansion_model` returns a ``linopy.Model``;
:func:`solve_expansion` solves it with HiGHS through :func:`critmin.optimize.common.solve` and, when the
targets cannot be met, returns an explanation naming the target, the year and what is missing instead of
raising. The formulation is documented in ``docs/methods/planning.md``:

* ``x[p, s]`` binary: project ``p`` starts in year ``s`` (at most once; only from its earliest start and
  only if it comes online within the horizon).
* Output of ``p`` in year ``t``: ``cap_p * f(t - s - L_p)`` with ramp ``f(k) = min(1, (k+1)/(R_p+1))`` for
  ``k >= 0`` (0 before first production).
* Capex is spent evenly over the ``max(L_p, 1)`` years from the start year; the annual spend is capped
  by the budget; the objective is discounted capex plus discounted operating cost within the horizon.
* Every share target must hold under two supply accountings: (a) incumbents keep their baseline output,
  supply = baseline + new; (b) supply = demand ``D_t = B * g_t`` (IEA demand growth), the gap to the new
  capacity filled by incumbents in proportion to their baseline shares.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from critmin.optimize.common import Hook, SolveResult

if TYPE_CHECKING:
    import linopy

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


def build_expansion_model(
    problem: ExpansionProblem, relax: bool = False, elastic: bool = False
) -> linopy.Model:
    """The MILP (or, with ``relax``, its LP relaxation) as a linopy model; nothing is solved here.

    With ``elastic`` every target row gets a slack ``short_<row>[year] >= 0`` in tonnes of missing capacity
    and the objective is the total slack (budgets stay hard): a phase-1 model that is always feasible and
    whose optimum is 0 exactly when the MILP is feasible.
    """
    import linopy
    import xarray as xr

    arrays = coefficients(problem)
    proj = pd.Index(problem.projects.index.astype(str), name="project")
    start = pd.Index(list(problem.years), name="start")
    year = pd.Index(list(problem.years), name="year")
    m = linopy.Model()
    # (project, start) pairs that are not allowed get an upper bound of 0 (removed by HiGHS presolve)
    upper = xr.DataArray(arrays.valid.astype(float), coords=[proj, start])
    x = m.add_variables(lower=0, upper=upper, integer=not relax, coords=[proj, start], name="x")
    m.add_constraints(x.sum("start") <= 1, name="start_once")
    if problem.budget_per_year is not None:
        spend = xr.DataArray(arrays.spend, coords=[proj, start, year])
        m.add_constraints((spend * x).sum(["project", "start"]) <= problem.budget_per_year, name="budget")
    shortfall = []
    for rows in target_rows(problem, arrays):
        if not len(rows.years):
            continue
        yr = pd.Index(rows.years.tolist(), name="year")
        coef = xr.DataArray(rows.coef, coords=[proj, start, yr])
        rhs = xr.DataArray(rows.rhs, coords=[yr])
        lhs = (coef * x).sum(["project", "start"])
        if elastic:
            short = m.add_variables(lower=0, coords=[yr], name=f"short_{rows.name}")
            shortfall.append(short.sum())
            lhs = lhs + (rows.per_tonne if rows.per_tonne > 0 else 1.0) * short
        m.add_constraints(lhs >= rhs, name=rows.name)
    if elastic:
        m.add_objective(sum(shortfall[1:], shortfall[0]) if shortfall else (0 * x).sum())
    else:
        m.add_objective((xr.DataArray(arrays.cost, coords=[proj, start]) * x).sum())
    return m


@dataclass(frozen=True)
class ExpansionResult:
    """A solved plan: which projects start when, supply shares by year, cost, and solver outcome."""

    problem: ExpansionProblem
    solve: SolveResult
    schedule: pd.DataFrame
    supply: pd.DataFrame
    explanation: str
    shortfalls: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def feasible(self) -> bool:
        """True when a plan meeting every target within the budget was found."""
        return self.solve.objective is not None

    def spend_peak(self) -> tuple[int, float]:
        """(year, USD) of the largest annual capex spend of the plan."""
        i = int(self.supply["capex_usd"].to_numpy().argmax())
        return int(self.supply["year"].iloc[i]), float(self.supply["capex_usd"].iloc[i])


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


def _explain(
    problem: ExpansionProblem, result: SolveResult, time_limit: float | None
) -> tuple[str, pd.DataFrame]:
    short = capacity_shortfalls(problem)
    if len(short):
        first = short.sort_values(["year", "shortfall_t"], ascending=[True, False]).iloc[0]
        worst = short.iloc[int(short["shortfall_t"].to_numpy().argmax())]
        text = (
            f"infeasible: {first['target']} cannot be met in {first['year']}: capacity is short by "
            f"{first['shortfall_t']:,.0f} t even with every eligible project ({first['helpful_projects']}) "
            f"online at its earliest; the largest gap is {worst['shortfall_t']:,.0f} t in {worst['year']} "
            f"({worst['target']}). The budget was not the limit."
        )
        return text, short
    if result.condition == "time_limit":
        return (
            f"no plan found within the time limit of {time_limit} s: the targets are within the reach of "
            "the pipeline's capacity, but HiGHS neither found a plan nor proved that none exists; "
            "allow more time or relax the targets",
            short,
        )
    if problem.budget_per_year is not None:
        free = solve_expansion(problem.with_budget(None), explain=False, time_limit=time_limit)
        if free.solve.objective is not None:
            peak = free.spend_peak()
            return (
                f"infeasible within a budget of {problem.budget_per_year:,.0f} USD a year: the targets "
                "can be met with every eligible project, but the cheapest plan without the budget limit "
                f"spends {peak[1]:,.0f} USD in {peak[0]}; raise the budget or move the target year later.",
                short,
            )
    return (
        "infeasible: every target can be met on its own, but not together within the horizon; "
        + result.explanation,
        short,
    )


def _schedule_frame(problem: ExpansionProblem, arrays: Arrays, xval: np.ndarray) -> pd.DataFrame:
    years = np.asarray(problem.years)
    rows = []
    p = problem.projects
    for i, pid in enumerate(p.index):
        js = np.flatnonzero(xval[i] > 0.5)
        if not len(js):
            continue
        s = int(years[js[0]])
        lead = math.ceil(float(p["lead_time_years"].iloc[i]) - 1e-9)
        rows.append(
            {
                "project_id": pid,
                "start_year": s,
                "first_output_year": s + lead,
                "country_iso3": p["country_iso3"].iloc[i],
                "capacity_t": float(p["capacity_t"].iloc[i]),
                "capex_usd": float(p["capex_usd"].iloc[i]),
                "discounted_cost_usd": float(arrays.cost[i, js[0]]),
            }
        )
    cols = ["project_id", "start_year", "first_output_year", "country_iso3", "capacity_t", "capex_usd"]
    return pd.DataFrame(rows, columns=[*cols, "discounted_cost_usd"])


#: above this many allowed (project, start) pairs a phase-1 model (:func:`build_expansion_model` with
#: ``elastic``) decides feasibility first, so the MILP is only solved when it is feasible: HiGHS's
#: infeasible-subsystem search on a large infeasible MILP can run for many minutes
PHASE1_PAIRS = 500
#: relative gap for phase 1: any gap below 1 proves a positive optimum (infeasibility) once one is found
PHASE1_GAP = 0.1


def _phase1(
    problem: ExpansionProblem, arrays: Arrays, explain: bool, time_limit: float | None
) -> ExpansionResult | None:
    """None when phase 1 finds a plan with no shortfall; otherwise the infeasible result, explained."""
    model = build_expansion_model(problem, elastic=True)
    res = _quiet_solve(model, None, mip_rel_gap=PHASE1_GAP, time_limit=time_limit)
    tol = 1e-6 * max(1.0, float(problem.baseline.sum()))
    if res.objective is None or res.objective <= tol or res.condition not in {"optimal", "time_limit"}:
        return None
    proven = res.condition == "optimal"
    rows = []
    for name in model.variables:
        if not str(name).startswith("short_"):
            continue
        sol = model.variables[name].solution
        for yr, val in zip(sol.coords["year"].values, sol.to_numpy(), strict=True):
            if val > 1e-6:
                rows.append({"constraint": str(name)[6:], "year": int(yr), "shortfall_t": float(val)})
    short = pd.DataFrame(rows, columns=["constraint", "year", "shortfall_t"])
    desc = {r.name: r.target.describe() for r in target_rows(problem, arrays)}
    short.insert(0, "target", [desc[c] for c in short["constraint"]])
    pre = SolveResult(
        "warning",
        "infeasible" if proven else "time_limit",
        None,
        "phase 1: no plan without a shortfall" + ("" if proven else f" found within {time_limit} s"),
        0.0,
        res.solve_seconds,
    )
    empty = _schedule_frame(problem, arrays, np.zeros(arrays.valid.shape))
    supply = evaluate_schedule(problem, pd.Series(dtype=float))
    if not explain or short.empty:
        return ExpansionResult(problem, pre, empty, supply, pre.explanation, short)
    first = short.sort_values(["year", "shortfall_t"], ascending=[True, False]).iloc[0]
    limit = (
        f"within a budget of {problem.budget_per_year:,.0f} USD a year"
        if problem.budget_per_year is not None
        else "with the projects' earliest starts and lead times"
    )
    text = (
        f"infeasible {limit}: every eligible project together has the capacity, but the closest plan "
        f"is still short by {first['shortfall_t']:,.0f} t in {first['year']} ({first['target']}); "
        "raise the budget or move the target year later."
    )
    if not proven:
        text = (
            f"no plan found within the time limit of {time_limit} s {limit}: the closest plan found is short "
            f"by {first['shortfall_t']:,.0f} t in {first['year']} ({first['target']}); infeasibility is not "
            "proven, allow more time or relax the targets."
        )
    return ExpansionResult(problem, pre, empty, supply, text, short)


def _quiet_solve(model: linopy.Model, hook: Hook | None, **options: Any) -> SolveResult:
    from critmin.optimize.common import solve

    quiet = logging.getLogger("linopy")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # linopy logs a warning for every infeasible solve; we explain it instead
    try:
        return solve(model, hook, **options)
    finally:
        quiet.setLevel(level)


def solve_expansion(
    problem: ExpansionProblem,
    hook: Hook | None = None,
    *,
    mip_rel_gap: float = 1e-6,
    time_limit: float | None = None,
    threads: int | None = None,
    explain: bool = True,
) -> ExpansionResult:
    """Build, (hook), solve; return the plan or, when infeasible, an explanation of what is missing.

    Without a hook two exact checks run first and skip the MILP when they prove it infeasible: the
    capacity shortfall with every helpful project at its earliest (:func:`capacity_shortfalls`), and, for
    more than :data:`PHASE1_PAIRS` start options, the phase-1 elastic model (shortfall within the budget).
    """
    arrays = coefficients(problem)
    if hook is None:
        if not capacity_shortfalls(problem).empty:
            pre = SolveResult(
                "warning", "infeasible", None, "proved before the MILP: capacity short with every project"
            )
            return _failed(problem, arrays, pre, explain, time_limit)
        if int(arrays.valid.sum()) > PHASE1_PAIRS:
            failed = _phase1(problem, arrays, explain, time_limit)
            if failed is not None:
                return failed
    t0 = time.perf_counter()
    model = build_expansion_model(problem)
    built = time.perf_counter() - t0
    res = _quiet_solve(
        model, hook, mip_rel_gap=mip_rel_gap, time_limit=time_limit, threads=threads, build_seconds=built
    )
    if res.objective is not None:
        xval = np.nan_to_num(model.variables["x"].solution.to_numpy(), nan=0.0)
        schedule = _schedule_frame(problem, arrays, xval)
        supply = evaluate_schedule(problem, schedule.set_index("project_id")["start_year"].astype(float))
        return ExpansionResult(problem, res, schedule, supply, res.explanation)
    return _failed(problem, arrays, res, explain, time_limit)


def _failed(
    problem: ExpansionProblem, arrays: Arrays, res: SolveResult, explain: bool, time_limit: float | None
) -> ExpansionResult:
    empty = _schedule_frame(problem, arrays, np.zeros(arrays.valid.shape))
    supply = evaluate_schedule(problem, pd.Series(dtype=float))
    if not explain:
        return ExpansionResult(problem, res, empty, supply, res.explanation)
    text, short = _explain(problem, res, time_limit)
    return ExpansionResult(problem, res, empty, supply, text, short)
