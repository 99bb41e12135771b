"""Monte Carlo: whose loss (perspective), excluded materials, parameter uncertainty bands (tiny chain)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from critmin.atlas.chain import SupplyChain
from critmin.disruption import perspective as persp
from critmin.disruption.inputs import InputError, build_inputs
from critmin.disruption.montecarlo import build_candidates, run_monte_carlo
from critmin.disruption.uncertainty import RangeError, material_ranges, parse_ranges
from critmin.parameters import ParameterSet


def test_every_countrys_part_sums_to_the_world_loss_in_every_scenario(chain: SupplyChain) -> None:
    r = run_monte_carlo(chain, 400, seed=4, chunk_size=150, keep_scenarios=True)
    A, countries = r.extra["outside_shares"], r.extra["countries"]
    every = persp.per_member(np.nan_to_num(r.loss_usd), r.extra["chosen"], A, countries, countries)
    np.testing.assert_allclose(every.sum(axis=1), np.nan_to_num(r.loss_usd).sum(axis=1), rtol=1e-9)
    # the restrictor never bears the importers' loss: its part is zero in the scenarios it restricts
    g = r.materials.index("gallium")
    cn = countries.index("CHN")
    rows = np.flatnonzero(r.restrictor_iso3()[:, g] == "CHN")
    assert rows.size > 0
    part = persp.split(np.nan_to_num(r.loss_usd), r.extra["chosen"], A[:, :, cn])
    assert np.all(part[rows, g] == 0.0) and r.loss_usd[rows, g].max() > 0


def test_perspectives_of_a_partition_add_up_to_the_world(chain: SupplyChain) -> None:
    world = run_monte_carlo(chain, 300, seed=9, chunk_size=300)
    countries = world.extra["countries"]
    total = pd.Series(0.0, index=world.summary["material"])
    for c in countries:
        r = run_monte_carlo(chain, 300, seed=9, chunk_size=300, perspective=c)
        assert r.perspective == c
        total = total.add(r.summary.set_index("material")["expected_loss_usd"], fill_value=0.0)
    w = world.summary.set_index("material")["expected_loss_usd"]
    np.testing.assert_allclose(total.reindex(w.index).to_numpy(), w.to_numpy(), rtol=1e-9)


def test_group_perspective_is_the_sum_of_its_members(chain: SupplyChain) -> None:
    g7 = run_monte_carlo(chain, 300, seed=2, perspective="g7").summary.set_index("material")
    parts = [
        run_monte_carlo(chain, 300, seed=2, perspective=c).summary.set_index("material")
        for c in ("USA", "JPN", "DEU")
    ]
    summed = sum(p["expected_loss_usd"] for p in parts)
    np.testing.assert_allclose(g7["expected_loss_usd"], summed.reindex(g7.index), rtol=1e-9)
    with pytest.raises(InputError, match="perspective"):
        run_monte_carlo(chain, 10, seed=2, perspective="not-a-group")


def test_unpriced_material_is_excluded_never_ranked_as_zero(chain: SupplyChain) -> None:
    no_li = chain.prices[chain.prices["material"] != "lithium"]
    r = run_monte_carlo(dataclasses.replace(chain, prices=no_li), 300, seed=1)
    assert "lithium" not in set(r.summary["material"])
    assert list(r.excluded["material"]) == ["lithium"]
    assert r.excluded.loc[0, "p_disrupted"] > 0 and "no reference price" in r.excluded.loc[0, "reason"]
    assert list(r.summary["rank"]) == list(range(1, len(r.summary) + 1))


def test_no_row_with_shortfall_or_price_damage_has_zero_loss(chain: SupplyChain) -> None:
    r = run_monte_carlo(chain, 500, seed=6)
    damaged = (r.summary["expected_shortfall_t"] > 0) | (r.summary["peak_price_p50"] > 1.0)
    assert damaged.any()
    assert (r.summary.loc[damaged, "expected_loss_usd"] > 0).all()
    parts = r.summary[["expected_extra_cost_usd", "expected_priced_out_usd", "expected_unmet_value_usd"]].sum(
        axis=1
    )
    np.testing.assert_allclose(parts, r.summary["expected_loss_usd"], rtol=1e-9)


def test_parameter_draws_give_a_band_around_the_expected_loss(chain: SupplyChain) -> None:
    r = run_monte_carlo(chain, 2000, seed=3, chunk_size=500, param_draws=20, keep_scenarios=True)
    s = r.summary
    assert (s["expected_loss_p5_usd"] <= s["expected_loss_usd"]).all()
    assert (s["expected_loss_usd"] <= s["expected_loss_p95_usd"]).all()
    assert (s["expected_loss_p95_usd"] > s["expected_loss_p5_usd"]).all()
    assert set(np.unique(r.extra["param_set"])) == set(range(20))
    np.testing.assert_array_equal(r.reduced.set_count, np.bincount(r.extra["param_set"], minlength=20))
    fixed = run_monte_carlo(chain, 2000, seed=3, chunk_size=500, param_draws=0, keep_scenarios=True)
    assert fixed.summary["expected_loss_p5_usd"].isna().all()
    # the events are the same with and without parameter draws (drawn first, from the same stream)
    np.testing.assert_array_equal(fixed.restrictor, r.restrictor)


def test_drawn_parameters_stay_in_their_documented_ranges(chain: SupplyChain) -> None:
    inp = build_inputs(chain)
    rg = material_ranges(inp.parameters, inp.materials)
    u = np.random.default_rng(0).random((5000, len(rg.names)))
    for i in range(len(inp.materials)):
        v = rg.quantile(u, np.array([i]))
        assert np.all(v >= rg.low[:, i] - 1e-12) and np.all(v <= rg.high[:, i] + 1e-12)
        # triangular with the mode at the value in force: the median lies on the mode's side
        j = rg.names.index("price_elasticity_demand_short_run")
        assert rg.mode[j, i] == inp.parameters.get("price_elasticity_demand_short_run", inp.materials[i])
    j = rg.names.index("price_elasticity_demand_short_run")
    assert (rg.low[j, 0], rg.high[j, 0]) == (-0.30, -0.05)  # the documented default range
    # an override moves the range with it (same relative spread)
    ps = ParameterSet().with_overrides({("commercial_inventory_days", "cobalt"): 90.0})
    r2 = material_ranges(ps, ["cobalt"], ("commercial_inventory_days",))
    assert (r2.low[0, 0], r2.mode[0, 0], r2.high[0, 0]) == pytest.approx((60.0, 90.0, 180.0))


def test_bad_range_rows_are_named() -> None:
    head = "name,material,low,high,source,note\n"
    with pytest.raises(RangeError, match="row 2, column name"):
        parse_ranges(head + "no_such_parameter,default,0,1,,\n")
    with pytest.raises(RangeError, match=r"row 2, columns low/high: 2\.0 >= 1\.0"):
        parse_ranges(head + "price_cap_index,default,2,1,,\n")


def test_candidates_use_the_trade_export_ratio(chain: SupplyChain) -> None:
    inp = build_inputs(chain)
    cands = build_candidates(inp, chain.wgi)
    m = inp.index("cobalt")
    k = [
        i
        for i in range(cands.country.shape[1])
        if cands.country[m, i] == "CHN" and cands.stage[m, i] == "refine"
    ]
    assert cands.export_ratio[m, k[0]] == pytest.approx(inp.export_share_of("cobalt", ["CHN"], "refine")[0])
    k2 = [i for i in range(cands.country.shape[1]) if cands.country[m, i] == "COD"]
    assert cands.export_ratio[m, k2[0]] == 0.5  # no mine-stage trade: restrictor_export_share


def test_dask_local_cluster_does_not_take_port_8787(chain: SupplyChain) -> None:
    """Issue 13 item 7: the dashboard's port stays free (a busy 8787 would raise a warning = an error)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 8787))
        s.listen(1)
        d = run_monte_carlo(chain, 60, seed=2, chunk_size=30, backend="dask")
    loc = run_monte_carlo(chain, 60, seed=2, chunk_size=30)
    np.testing.assert_array_equal(d.loss_usd, loc.loss_usd)


def test_trade_content_factors_have_a_source_and_a_trade_code() -> None:
    from critmin.data.trade import hs6_table

    t = ParameterSet().table
    rows = t[t["name"] == "trade_content_factor"]
    own_codes = {e.material for e in hs6_table().values() if not e.shared}
    assert len(rows) >= 20
    for r in rows.itertuples():
        assert r.material in own_codes, r.material  # a factor only where the material has a code of its own
        assert isinstance(r.source, str) and r.source.strip(), r.material
        assert 0 < float(r.value) <= 1.5
        assert r.basis in ("derived", "assumption")
        if r.basis == "assumption":
            assert "Range" in str(r.note), r.material  # every assumed factor states a plausible range
    li = rows.set_index("material").loc["lithium", "value"]
    assert float(li) == pytest.approx(2 * 6.94 / 73.89, abs=1e-4)  # Li2CO3 stoichiometry
