"""Exhaustive-enumeration oracle for small expansion instances, written from the methods page, not the code.

Every project either is not started or starts in one of the plan years; for each combination the oracle
computes output and spend year by year with plain loops, the realised shares under both supply
accountings, and the discounted cost, then keeps the cheapest combination that meets every target.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd


def project_tables(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """output[p, option, t], spend[p, option, t], cost[p, option]; option len(years) = not started."""
    years = list(problem.years)
    ny = len(years)
    n = len(problem.projects)
    out = np.zeros((n, ny + 1, ny))
    spend = np.zeros((n, ny + 1, ny))
    cost = np.zeros((n, ny + 1))
    allowed = np.zeros((n, ny + 1), dtype=bool)
    allowed[:, ny] = True
    r = problem.discount_rate
    for i, (_, p) in enumerate(problem.projects.iterrows()):
        lead = math.ceil(p["lead_time_years"])
        ramp = round(p["ramp_up_years"])
        for j, s in enumerate(years):
            if s < p["earliest_start"] or s + lead > years[-1]:
                continue
            allowed[i, j] = True
            build = max(lead, 1)
            for k, t in enumerate(years):
                op_year = t - (s + lead)
                if op_year >= 0:
                    out[i, j, k] = p["capacity_t"] * min(1.0, (op_year + 1) / (ramp + 1))
                if s <= t < s + build:
                    spend[i, j, k] = p["capex_usd"] / build
                df = (1 + r) ** -(t - years[0])
                cost[i, j] += df * (spend[i, j, k] + p["unit_opex_usd_per_t"] * out[i, j, k])
    return out, spend, cost, allowed


def enumerate_best(problem) -> tuple[float | None, tuple[int, ...] | None]:
    """(least cost, option per project) over all start combinations meeting the targets and budget."""
    out, spend, cost, allowed = project_tables(problem)
    years = np.asarray(problem.years)
    n = out.shape[0]
    host = problem.projects["country_iso3"].tolist()
    base = problem.baseline
    b = base.sum()
    d = b * problem.demand_index.reindex(problem.years).to_numpy()
    best: tuple[float | None, tuple[int, ...] | None] = (None, None)
    options = [np.flatnonzero(allowed[i]) for i in range(n)]
    for combo in itertools.product(*options):
        o = np.array([out[i, c] for i, c in enumerate(combo)])  # (n, T)
        sp = sum(spend[i, c] for i, c in enumerate(combo))
        if problem.budget_per_year is not None and (sp > problem.budget_per_year * (1 + 1e-9)).any():
            continue
        if not meets(problem, o, host, base, b, d, years):
            continue
        c = sum(cost[i, cc] for i, cc in enumerate(combo))
        if best[0] is None or c < best[0] - 1e-6:
            best = (float(c), tuple(int(x) for x in combo))
    return best


def meets(problem, o, host, base: pd.Series, b, d, years) -> bool:
    """Whether project outputs ``o[p, t]`` meet every target under both accountings."""
    n_all = o.sum(axis=0)
    for tgt in problem.targets:
        sel = years >= tgt.by
        if tgt.kind == "non_china_share":
            nc = sum(o[i] for i, h in enumerate(host) if h != "CHN") + 0 * n_all
            b_nc = b - base.get("CHN", 0.0)
            share_a = (b_nc + nc) / (b + n_all)
            share_b = (b_nc / b * (d - n_all) + nc) / d
            if (share_a[sel] < tgt.value - 1e-9).any() or (share_b[sel] < tgt.value - 1e-9).any():
                return False
        elif tgt.kind == "third_country_cap":
            countries = {c for c in base.index if "+" not in c and c != "OTH"} | set(host)
            for c in countries - set(problem.alliance):
                n_c = sum(o[i] for i, h in enumerate(host) if h == c) + 0 * n_all
                b_c = base.get(c, 0.0)
                share_a = (b_c + n_c) / (b + n_all)
                share_b = (b_c / b * (d - n_all) + n_c) / d
                if (share_a[sel] > tgt.value + 1e-9).any() or (share_b[sel] > tgt.value + 1e-9).any():
                    return False
        else:
            ally = sum(o[i] for i, h in enumerate(host) if h in problem.alliance) + 0 * n_all
            b_a = sum(v for c, v in base.items() if c in problem.alliance)
            need = tgt.value * tgt.alliance_demand_t * d / b
            got_a = b_a + ally
            got_b = b_a / b * (d - n_all) + ally
            if (got_a[sel] < need[sel] - 1e-6).any() or (got_b[sel] < need[sel] - 1e-6).any():
                return False
    return True


def first_year_by_scan(problem) -> int | None:
    """First target year with a feasible plan, by trying every year in order with the oracle."""
    for y in problem.years:
        if enumerate_best(problem.with_target_year(y))[0] is not None:
            return int(y)
    return None
