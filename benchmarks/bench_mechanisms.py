"""Benchmark: every registered mechanism evaluated on 10,000 price paths x 10 years (monthly) in under 10 s.

Paths come from the fitted NdPr oxide no-event price model (critmin.pricing.price_paths). The reference is a
plain per-path, per-month Python loop (``evaluate_reference``) run in the same process on a subset of
paths and scaled per path; its results must match the vectorised ones. Exit code 1 if the target is missed.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from critmin.parameters import ParameterSet
from critmin.pricing.mechanisms import (
    MECHANISMS,
    Mechanism,
    discount_factors,
    evaluate,
    evaluate_reference,
    mechanism_flows,
)
from critmin.pricing.price_paths import fit_material, simulate

N_PATHS, YEARS, TARGET_S, REF_PATHS = 10_000, 10, 10.0, 500


def main() -> int:
    params = ParameterSet()
    t0 = time.perf_counter()
    model = fit_material("ndpr-oxide", params=params)
    paths = simulate(model, n_paths=N_PATHS, months=YEARS * 12, seed=2026)
    t_paths = time.perf_counter() - t0
    strike = 110_000.0  # USD/t (the DoD-MP floor of 110 USD/kg)
    mechs = [Mechanism(kind, strike, 1000.0, member_output_t_per_year=1000.0) for kind in MECHANISMS]

    t0 = time.perf_counter()
    results = [evaluate(m, paths, material="ndpr-oxide", params=params) for m in mechs]
    t_vec = time.perf_counter() - t0

    rate = params.get("mech_discount_rate", "ndpr-oxide")
    share = params.get("mech_upside_share", "ndpr-oxide")
    top = params.get("mech_take_or_pay_fraction", "ndpr-oxide")
    # like for like with the loop: the discounted fiscal flow only
    t0 = time.perf_counter()
    df = discount_factors(paths.shape[1], rate)
    for m in mechs:
        fl = mechanism_flows(m, paths, share, top)  # levy: the quarterly reset with a lag, imports responding
        pv = fl.fiscal @ df
        if fl.end_value is not None:  # the reserve's stock sold at the horizon
            pv = pv - fl.end_value * df[-1]
    t_fiscal = time.perf_counter() - t0
    t0 = time.perf_counter()
    refs = [evaluate_reference(m, paths[:REF_PATHS], rate, share, top) for m in mechs]
    t_ref = (time.perf_counter() - t0) * N_PATHS / REF_PATHS
    for res, ref in zip(results, refs, strict=True):
        np.testing.assert_allclose(res.fiscal_cost_pv[:REF_PATHS], ref, rtol=1e-9, atol=1e-3)

    print(f"paths: {N_PATHS:,} x {YEARS * 12} months (simulated in {t_paths:.2f} s)")
    for res in results:
        c = res.summary["fiscal_cost_pv_usd"]
        print(
            f"  {res.mechanism.kind:12s} fiscal cost PV (USD m): mean {c['mean'] / 1e6:9.1f}  "
            f"P5 {c['p5'] / 1e6:9.1f}  P95 {c['p95'] / 1e6:9.1f}"
        )
    print(f"vectorised, all {len(mechs)} mechanisms: {t_vec:.3f} s (target < {TARGET_S:.0f} s)")
    print(f"per-path loop reference (from {REF_PATHS} paths, scaled): {t_ref:.1f} s")
    print(f"vectorised fiscal PV only (same work as the loop): {t_fiscal:.3f} s")
    print(f"ratio reference / vectorised: {t_ref / t_fiscal:.0f}x like for like", end=", ")
    print(f"{t_ref / t_vec:.0f}x against the full evaluation")
    ok = t_vec < TARGET_S
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
