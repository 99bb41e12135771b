"""Monte Carlo on the tiny chain: reproducibility, chunking, replay through simulate, Dask = local."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from critmin.atlas.chain import SupplyChain
from critmin.disruption import parse_scenario, simulate
from critmin.disruption.inputs import build_inputs
from critmin.disruption.montecarlo import (
    _spec,
    build_candidates,
    draw_restrictions,
    run_chunk,
    run_monte_carlo,
    summarise,
)


def test_same_seed_same_result_and_other_seed_differs(chain: SupplyChain) -> None:
    a = run_monte_carlo(chain, 600, seed=11, chunk_size=250, keep_scenarios=True)
    b = run_monte_carlo(chain, 600, seed=11, chunk_size=250, keep_scenarios=True)
    c = run_monte_carlo(chain, 600, seed=12, chunk_size=250, keep_scenarios=True)
    np.testing.assert_array_equal(a.loss_usd, b.loss_usd)
    assert not np.array_equal(a.loss_usd, c.loss_usd)
    assert a.loss_usd.shape == (600, 3) and a.materials == ["cobalt", "gallium", "lithium"]
    assert (a.loss_usd > 0).any()


def test_progress_is_reported_per_chunk(chain: SupplyChain) -> None:
    seen: list[tuple[int, int]] = []
    run_monte_carlo(chain, 250, seed=1, chunk_size=100, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(100, 250), (200, 250), (250, 250)]


def test_summary_matches_hand_computed_statistics(chain: SupplyChain) -> None:
    r = run_monte_carlo(chain, 400, seed=3, chunk_size=400, keep_scenarios=True)
    for row in r.summary.itertuples():
        col = r.loss_usd[:, r.materials.index(row.material)]
        assert row.expected_loss_usd == pytest.approx(col.mean())
        worst = np.sort(col)[-20:]  # 5% of 400
        assert row.var_usd == pytest.approx(worst[0])
        assert row.cvar_usd == pytest.approx(worst.mean())
        assert row.cvar_usd >= row.var_usd
    assert list(r.summary["rank"]) == [1, 2, 3]
    assert r.summary["expected_loss_usd"].is_monotonic_decreasing
    assert set(r.member_summary["member"]) == set(r.members)
    total_members = r.member_summary["expected_loss_usd"].sum()
    assert total_members <= r.summary["expected_loss_usd"].sum() + 1e-6  # members are part of the world
    assert r.metadata.parameters["seed"] == 3


def test_summarise_tail_oracle() -> None:
    losses = np.arange(1.0, 101.0)[:, None]  # 1..100
    df = summarise(["x"], losses, "material", level=0.9)
    assert df.loc[0, "var_usd"] == 91.0 and df.loc[0, "cvar_usd"] == pytest.approx(95.5)
    assert df.loc[0, "expected_loss_usd"] == pytest.approx(50.5)


def test_keep_paths_shapes_and_consistency(chain: SupplyChain) -> None:
    r = run_monte_carlo(chain, 50, seed=5, horizon_months=6, chunk_size=20, keep_paths=True)
    assert r.shortfall_t is not None and r.price_index_outside is not None
    assert r.shortfall_t.shape == (50, 3, 6) and r.price_index_outside.shape == (50, 3, 6)
    # the loss counts price damage as well as unmet demand: never below the value of the shortfall
    unmet = r.shortfall_t.sum(axis=2) * r.loss_per_tonne_usd
    assert np.all(r.loss_usd >= unmet * (1 - 1e-9))
    assert np.all((r.loss_usd > 0) == (r.price_index_outside.max(axis=2) > 1.0))


def test_a_drawn_scenario_replayed_through_simulate_gives_the_same_loss(chain: SupplyChain) -> None:
    inp = build_inputs(chain)
    cands = build_candidates(inp, chain.wgi)
    spec = _spec(inp, cands, 24)
    seed = np.random.SeedSequence(99)
    a, c, w, chosen = draw_restrictions(spec, 200, np.random.default_rng(seed))
    out = run_chunk(spec, 200, seed)
    s, m = map(int, np.argwhere(chosen >= 0)[0])
    months = np.flatnonzero(w[s, m] > 0)
    k = chosen[s, m]
    mat = inp.materials[m]
    share = float(w[s, m, months[0]] / (a[s, m] - c[s, m]))
    sc = parse_scenario(
        {
            "name": "replay",
            "horizon_months": 24,
            "events": [
                {
                    "type": "export_restriction",
                    "exporter": str(cands.country[m, k]),
                    "stage": str(cands.stage[m, k]),
                    "material": mat,
                    "share": share,
                    "start_month": int(months[0]),
                    "duration_months": len(months),
                }
            ],
        }
    )
    one = simulate(chain, sc)
    assert one.loss_usd[one.row(mat)] == pytest.approx(out.loss_usd[s, m], rel=1e-9)


def test_hazard_is_highest_for_the_dominant_listed_producer(chain: SupplyChain) -> None:
    inp = build_inputs(chain)
    cands = build_candidates(inp, chain.wgi)
    g = inp.index("gallium")
    best = int(np.argmax(cands.hazard_per_month[g]))
    assert cands.country[g, best] == "CHN"
    # CHN at 90% share, listed, reference governance: the full 0.2 per year
    assert cands.hazard_per_month[g, best] * 12 == pytest.approx(0.2)


def test_bad_arguments_are_rejected(chain: SupplyChain) -> None:
    with pytest.raises(ValueError, match="backend"):
        run_monte_carlo(chain, 10, seed=1, backend="spark")
    with pytest.raises(ValueError, match="n_scenarios"):
        run_monte_carlo(chain, 0, seed=1)


def test_dask_two_worker_local_cluster_is_identical_to_local(chain: SupplyChain) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        assert len(cluster.workers) == 2
        d = run_monte_carlo(
            chain,
            300,
            seed=21,
            chunk_size=70,
            backend="dask",
            scheduler=cluster.scheduler_address,
            keep_scenarios=True,
        )
        streamed = run_monte_carlo(
            chain, 300, seed=21, chunk_size=70, backend="dask", scheduler=cluster.scheduler_address
        )
    loc = run_monte_carlo(chain, 300, seed=21, chunk_size=70, keep_scenarios=True)
    assert streamed.loss_usd is None  # the workers returned summaries only
    pd.testing.assert_frame_equal(streamed.summary, loc.summary, check_exact=True)
    np.testing.assert_array_equal(d.loss_usd, loc.loss_usd)
    np.testing.assert_array_equal(d.restrictor, loc.restrictor)
    assert (loc.loss_usd > 0).any()
    # the workers merge the chunk summaries in the local backend's tree: the tables are bit-identical
    pd.testing.assert_frame_equal(d.summary, loc.summary, check_exact=True)
    pd.testing.assert_frame_equal(d.member_summary, loc.member_summary, check_exact=True)
    assert d.totals == loc.totals


def test_inputs_are_built_once_per_atlas_and_parameter_set(chain: SupplyChain) -> None:
    from critmin.disruption.inputs_cache import inputs_and_candidates
    from critmin.parameters import ParameterSet

    a = inputs_and_candidates(chain, ParameterSet(), None)
    assert inputs_and_candidates(chain, ParameterSet(), None) is a  # same values: reused
    other = ParameterSet(overrides={("restriction_severity_min", "default"): 0.3})
    b = inputs_and_candidates(chain, other, None)
    assert b is not a and b[0].parameters.get("restriction_severity_min") == 0.3
    # a run with other parameters sees them (the cache does not leak one set into another)
    r1 = run_monte_carlo(chain, 300, seed=4, chunk_size=100)
    r2 = run_monte_carlo(chain, 300, seed=4, chunk_size=100, params=other)
    assert not r1.summary.equals(r2.summary)


def test_the_drawn_candidate_and_month_follow_the_cumulative_hazards(chain: SupplyChain) -> None:
    """Replays the draw with numpy: the candidate is ``searchsorted(cum, u, "left")`` of the uniform
    drawn second, the month the floor of the exponential time, where that time is inside the horizon."""
    from critmin.disruption.montecarlo import draw_events

    inp = build_inputs(chain)
    spec = _spec(inp, build_candidates(inp, chain.wgi), 12)
    d = draw_events(spec, 2_000, np.random.default_rng(8))
    rng = np.random.default_rng(8)
    M = spec.cands.share.shape[0]
    u_time, u_who = rng.random((2_000, M)), rng.random((2_000, M))
    h = spec.cands.hazard_per_month
    total = h.sum(axis=1)
    cum = np.cumsum(h, axis=1) / np.where(total > 0, total, 1.0)[:, None]
    cum[:, -1] = 1.0
    t0 = np.where(total > 0, -np.log1p(-u_time) / np.where(total > 0, total, 1.0), np.inf)
    happen = t0 < 12
    assert happen.any() and not happen.all()
    for m in range(M):
        want = np.where(happen[:, m], np.searchsorted(cum[m], u_who[:, m], side="left"), -1)
        np.testing.assert_array_equal(d.chosen[:, m], want)
    np.testing.assert_array_equal(d.start, np.where(happen, np.floor(np.where(happen, t0, 0.0)), 12))
