"""Benchmark: sizing the Vault over 60 months on 10,000 Monte Carlo scenarios (issue: Project Vault v2).

Target: the horizon LP (episodes of every disrupted scenario and material, sparse assembly, HiGHS) builds and
solves in under 60 s. The Monte Carlo that feeds it is timed and printed apart (end to end too).

Reference in the same process: the same plan as the monthly linopy model of ``critmin.optimize.stockpile``
(release variables per scenario, material and month of the withheld gap, loss per tonne per material = the
episodes' mean value), built and solved on the same data; prints the build-time ratio linopy / direct and
checks that the direct LP's objective is no worse than the linopy one evaluated on its episodes.
Exit code 1 if the target is missed.
"""

from __future__ import annotations

import sys
import time

import numpy as np

N_SCENARIOS, SEED, HORIZON, TARGET_S, BUDGET = 10_000, 2026, 60, 60.0, 11.67e9


def main() -> int:
    import pandas as pd

    from critmin.atlas import load_atlas
    from critmin.optimize.reserve_lp import evaluate_fixed
    from critmin.optimize.stockpile import StockpileConfig, StockpileInputs, shortfall_array, size_stockpile
    from critmin.vault.horizon import horizon_problem, size_over_horizon

    t0 = time.perf_counter()
    data = horizon_problem(load_atlas(), N_SCENARIOS, SEED, HORIZON, BUDGET)
    t_mc = time.perf_counter() - t0
    sol = size_over_horizon(data)
    lp_s = sol.build_seconds + sol.solve_seconds
    pr = data.problem
    ep = pr.episodes
    print(f"Monte Carlo + alignment: {t_mc:.1f} s; episodes {ep.gap_t.size:,} over {N_SCENARIOS:,} scenarios")
    print(f"direct LP: build {sol.build_seconds:.2f} s + solve {sol.solve_seconds:.2f} s = {lp_s:.2f} s")
    print(f"status: {sol.status}")
    print(f"end to end: {t_mc + lp_s:.1f} s")

    # reference: the monthly linopy model, releases per month of each episode's gap (no discounting)
    m_n = len(pr.materials)
    gap_t = np.zeros((N_SCENARIOS, m_n, 1))
    gap_t[ep.scenario, ep.material, 0] = ep.gap_t
    mean_value = (
        pd.Series(ep.value_per_t).groupby(ep.material).mean().reindex(range(m_n)).fillna(0.0).to_numpy()
    )
    t1 = time.perf_counter()
    ref = size_stockpile(
        StockpileInputs(
            shortfall_t=shortfall_array(gap_t, pr.materials),
            loss_per_tonne_usd=pd.Series(mean_value, index=pr.materials),
            price_usd_per_t=pd.Series(pr.price_usd_per_t, index=pr.materials),
            max_holding_t=pd.Series(pr.cap_t, index=pr.materials),
            carry_rate_per_year=pd.Series(pr.carry_usd_per_t / pr.price_usd_per_t * 12.0, index=pr.materials),
        ),
        StockpileConfig(budget_usd=BUDGET),
    )
    t_ref = time.perf_counter() - t1
    ref_x = ref.table.set_index("material")["tonnes"].reindex(pr.materials).fillna(0.0).to_numpy()
    ours, theirs = evaluate_fixed(pr, sol.holdings_t.to_numpy()), evaluate_fixed(pr, ref_x)
    print(
        f"reference linopy model (monthly index, mean value per material): build "
        f"{ref.solve.build_seconds:.2f} s, build + solve {t_ref:.2f} s; build ratio linopy/direct "
        f"{ref.solve.build_seconds / sol.build_seconds:.1f}x"
    )
    print(
        f"net benefit on the episodes: direct {ours['net_benefit_usd'] / 1e9:.3f} bn USD, "
        f"reference plan {theirs['net_benefit_usd'] / 1e9:.3f} bn USD"
    )
    ok = lp_s < TARGET_S and ours["net_benefit_usd"] >= theirs["net_benefit_usd"] - 1e-6 * abs(
        theirs["net_benefit_usd"]
    )
    print(f"target build + solve < {TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
