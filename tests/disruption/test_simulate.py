"""One scenario on the tiny hand-made chain: invariants, event compilation rules and the JSON result."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.atlas.chain import SupplyChain
from critmin.disruption import parse_scenario, simulate
from critmin.disruption.inputs import InputError, build_inputs
from critmin.parameters import ParameterSet

# the tiny chain's tests fix the gallium parameters the real-data calibration moves
PS = ParameterSet().with_overrides(
    {
        ("restrictor_export_share", "gallium"): 0.5,
        ("commercial_inventory_days", "gallium"): 45.0,
        ("inventory_max_draw_share", "default"): 0.5,
    }
)


def restriction(material: str = "gallium", share: float = 1.0, **kw: object) -> dict[str, object]:
    ev: dict[str, object] = {
        "type": "export_restriction",
        "exporter": "CHN",
        "material": material,
        "stage": "refine",
        "share": share,
        "start_month": 0,
        "duration_months": 6,
    }
    ev.update(kw)
    return ev


def scenario(*events: dict[str, object], horizon: int = 12) -> object:
    return parse_scenario({"name": "t", "horizon_months": horizon, "events": list(events)})


def test_no_events_everything_at_baseline(chain: SupplyChain) -> None:
    r = simulate(chain, scenario(), params=PS)
    assert np.all(r.price_outside == 1.0) and np.all(r.price_restrictor == 1.0)
    assert np.all(r.shortfall_t == 0.0) and np.all(r.loss_usd == 0.0)


def test_unnamed_materials_are_unchanged(chain: SupplyChain) -> None:
    r = simulate(chain, scenario(restriction()), params=PS)
    for m in ("cobalt", "lithium"):
        i = r.row(m)
        assert np.all(r.price_outside[i] == 1.0) and np.all(r.shortfall_t[i] == 0.0)
    assert r.price_outside[r.row("gallium")].max() > 1.0


def test_restricted_volume_follows_the_share_and_export_share(chain: SupplyChain) -> None:
    r = simulate(chain, scenario(restriction(share=0.6)), params=PS)
    i = r.row("gallium")
    # CHN 900 of 1000 t, exports half (default restrictor_export_share 0.5): 450 t/yr; 60% withheld per month
    assert r.restricted_t[i, 0] == pytest.approx(0.6 * 450 / 12)
    assert np.all(r.restricted_t[i, 6:] == 0.0)
    assert np.all(r.shortfall_t[i] <= r.restricted_t[i] + 1e-9)
    assert np.all(r.price_restrictor[i] <= 1.0)


def test_targets_subset_uses_import_shares_and_leakage(chain: SupplyChain) -> None:
    r = simulate(chain, scenario(restriction(targets=["USA"])), params=PS)
    i = r.row("gallium")
    # USA takes 40 of 100 import value; 10% leaks through untargeted third countries
    assert r.restricted_t[i, 0] == pytest.approx(450 / 12 * 0.4 * 0.9)
    members = dict(zip(r.members, r.member_shortfall_t[i], strict=True))
    assert all(v == 0 for k, v in members.items() if k != "USA")


def test_group_exporter_pools_its_members(chain: SupplyChain) -> None:
    a = simulate(chain, scenario(restriction(exporter="china")), params=PS)
    b = simulate(chain, scenario(restriction(exporter="CHN")), params=PS)
    np.testing.assert_array_equal(a.price_outside, b.price_outside)


def test_mine_restriction_carries_to_the_refine_market(chain: SupplyChain) -> None:
    r = simulate(chain, scenario(restriction("cobalt", exporter="COD", stage="mine")), params=PS)
    i = r.row("cobalt")
    assert r.market_stage[i] == "refine"
    assert r.restrictors["cobalt"] == ["COD"]
    assert r.restricted_t[i, 0] == pytest.approx(0.7 * 0.5 * 1000 / 12)
    assert r.price_outside[i].max() > 1.0


def test_missing_stage_and_unknown_producer_are_clear_errors(chain: SupplyChain) -> None:
    with pytest.raises(InputError, match=r"event 0 .*field stage.*no 'mine' stage"):
        simulate(chain, scenario(restriction("gallium", stage="mine")), params=PS)
    with pytest.raises(InputError, match=r"field exporter: value 'USA'"):
        simulate(chain, scenario(restriction("gallium", exporter="USA")), params=PS)
    with pytest.raises(InputError, match=r"field material: unknown material 'unobtainium'"):
        simulate(chain, scenario(restriction("unobtainium")), params=PS)


def test_outage_and_demand_shock(chain: SupplyChain) -> None:
    out = simulate(
        chain,
        scenario(
            {
                "type": "production_outage",
                "country": "AUS",
                "material": "lithium",
                "stage": "mine",
                "share": 0.5,
                "duration_months": 3,
            }
        ),
        params=PS,
    )
    i = out.row("lithium")
    # stocks are sold only above the baseline price: while they are drawn the price is above 1.0
    assert np.all(out.price_outside[i, :3] > 1.0)
    assert np.all(out.stock_release_t[i, :3] > 0) and np.all(np.diff(out.inventory_t[i, :3]) < 0)
    with_stock = out.price_outside[i, :3].copy()
    no_stock = PS.with_overrides({("commercial_inventory_days", "lithium"): 0.0})
    out = simulate(
        chain,
        scenario(
            {
                "type": "production_outage",
                "country": "AUS",
                "material": "lithium",
                "stage": "mine",
                "share": 0.5,
                "duration_months": 3,
            }
        ),
        params=no_stock,
    )
    assert out.price_outside[i, 0] > 1.0 and out.price_outside[i, 5] == 1.0
    assert np.all(out.price_outside[i, :3] > with_stock)  # stocks dampen the price rise
    down = simulate(
        chain,
        scenario({"type": "demand_shock", "material": "cobalt", "share": -0.2, "duration_months": 2}),
        params=PS,
    )
    j = down.row("cobalt")
    assert down.price_outside[j, 0] < 1.0 and np.all(down.shortfall_t[j] == 0)


def test_releases_reduce_losses(chain: SupplyChain) -> None:
    sc = scenario(restriction())
    base = simulate(chain, sc, params=PS)
    rel = simulate(chain, sc, releases={"gallium": [30.0] * 12}, params=PS)
    i = base.row("gallium")
    assert rel.loss_usd[i] < base.loss_usd[i]
    assert rel.released_t[i, 0] == pytest.approx(30.0)
    assert rel.released_t[i, 8] == 0.0  # nothing to close once the restriction is over
    with pytest.raises(InputError, match="expected 12"):
        simulate(chain, sc, releases={"gallium": [1.0]}, params=PS)


def test_parameter_overrides_in_the_scenario_and_in_the_call(chain: SupplyChain) -> None:
    base = simulate(chain, scenario(restriction()), params=PS)
    sc = parse_scenario(
        {
            "name": "t",
            "horizon_months": 12,
            "events": [restriction()],
            "parameters": {"price_cap_index[gallium]": 2.0},
        }
    )
    capped = simulate(chain, sc, params=PS)
    i = base.row("gallium")
    assert capped.price_outside[i].max() == pytest.approx(2.0)
    assert base.price_outside[i].max() > 2.0
    assert capped.metadata.parameters["price_cap_index[gallium]"] == 2.0
    ps = PS.with_overrides({("restrictor_export_share", "gallium"): 0.1})
    small = simulate(chain, scenario(restriction()), params=ps)
    assert small.restricted_t[i, 0] == pytest.approx(90 / 12)


def test_json_result_shape(chain: SupplyChain) -> None:
    d = simulate(chain, scenario(restriction()), params=PS).to_dict()
    g = d["materials"]["gallium"]
    assert len(g["price_index"]["outside"]) == 12 and len(g["price_index"]["restrictor"]) == 12
    assert len(g["shortfall_t"]) == 12
    parts = g["loss_parts_usd"]
    assert g["loss_usd"] == pytest.approx(
        parts["extra_cost_usd"] + parts["priced_out_usd"] + parts["unmet_value_usd"]
    )
    assert parts["unmet_value_usd"] == pytest.approx(sum(g["shortfall_t"]) * g["loss_per_tonne_usd"])
    assert parts["extra_cost_usd"] > 0 and parts["priced_out_usd"] > 0 and parts["windfall_usd"] > 0
    for k, v in parts.items():
        assert sum(g["loss_parts_usd_by_month"][k]) == pytest.approx(v)
    assert "priced out" in g["loss_includes"] and "priced out" in d["loss_includes"]
    assert sum(g["loss_by_sector_usd"].values()) == pytest.approx(g["loss_usd"])
    assert sum(g["shortfall_by_sector_t"].values()) == pytest.approx(sum(g["shortfall_t"]))
    assert d["parameter_digest"] and "fixture" in d["data_editions"]
    assert "price_elasticity_demand_short_run[default]" in d["parameters"]


def test_inputs_allocation_is_apparent_consumption_else_gdp(chain: SupplyChain) -> None:
    inp = build_inputs(chain)
    assert inp.market_stage == ["refine", "refine", "mine"]  # cobalt, gallium, lithium
    share = {
        m: dict(zip(inp.countries, inp.consumption_share[i], strict=True))
        for i, m in enumerate(inp.materials)
    }
    # gallium: no code of its own with a content factor -> GDP shares (USA 60, CHN 30, JPN 10)
    assert inp.alloc_basis[inp.index("gallium")] == "gdp-share"
    assert share["gallium"]["USA"] == pytest.approx(0.6) and share["gallium"]["JPN"] == pytest.approx(0.1)
    # cobalt, refine: content = 0.5 x gross; CHN->JPN has no tonnes: 10 USD / (unit value 90/220 USD/t)
    jpn = 10.0 / (90.0 / 220.0) * 0.5
    ac = {"CHN": 750 + 100 - 10 - jpn, "FIN": 100.0, "USA": 10.0, "JPN": jpn, "COD": 0.0}
    total = sum(ac.values())
    assert inp.alloc_basis[inp.index("cobalt")] == "apparent-consumption"
    for c, v in ac.items():
        assert share["cobalt"].get(c, 0.0) == pytest.approx(v / total)
    assert inp.trade_info["cobalt"]["rows_tonnes_estimated"] == 1
    # lithium: trade codes at refine but the atlas has mine output only: stages are never mixed -> GDP
    assert inp.alloc_basis[inp.index("lithium")] == "gdp-share"
    assert share["lithium"]["USA"] == pytest.approx(0.6) and "AUS" not in share["lithium"]
    assert np.allclose(inp.consumption_share.sum(axis=1), 1.0)
    members = dict(zip(inp.members, inp.member_alloc[inp.index("cobalt")], strict=True))
    assert members["FIN"] == pytest.approx(100.0 / total) and members["USA"] == pytest.approx(10.0 / total)


def test_export_ratio_from_trade_replaces_the_default(chain: SupplyChain) -> None:
    inp = build_inputs(chain)
    jpn = 10.0 / (90.0 / 220.0) * 0.5
    ratio, basis = inp.export_share_of("cobalt", ["CHN"], "refine")
    assert basis == "trade (refine, 2024)" and ratio == pytest.approx((10.0 + jpn) / 750.0)
    # no trade at the mine stage: the parameter
    assert inp.export_share_of("cobalt", ["COD"], "mine") == (0.5, "parameter restrictor_export_share")
    # a material row of its own (gallium 0.108, China customs) wins over trade and the default
    assert inp.export_share_of("gallium", ["CHN"], "refine") == (0.108, "parameter restrictor_export_share")


def test_ramp_builds_the_withheld_share_linearly(chain: SupplyChain) -> None:
    r = simulate(chain, scenario(restriction(share=0.9, ramp_months=3, duration_months=6)), params=PS)
    i = r.row("gallium")
    full = 0.9 * 450 / 12
    np.testing.assert_allclose(r.restricted_t[i, :7], [full / 3, 2 * full / 3, full, full, full, full, 0.0])


def test_demand_shock_scopes_and_their_errors(chain: SupplyChain) -> None:
    ev = {"type": "demand_shock", "material": "cobalt", "share": 0.5, "duration_months": 2}
    ev_sector = {**ev, "sector": "electric_vehicles"}
    ev_country = {**ev, "country": "USA"}
    bare = PS.with_overrides({("commercial_inventory_days", "cobalt"): 0.0})  # no stocks to absorb it
    whole = simulate(chain, scenario(ev), params=bare)
    sector = simulate(chain, scenario(ev_sector), params=bare)
    country = simulate(chain, scenario(ev_country), params=bare)
    i = whole.row("cobalt")
    # EVs take 30.1% of cobalt demand (IEA 2024); the USA 10 of 100 import value in the fixture
    assert whole.price_outside[i, 0] > sector.price_outside[i, 0] > country.price_outside[i, 0] >= 1.0
    with pytest.raises(InputError, match=r"field sector: value 'spaceships'"):
        simulate(chain, scenario({**ev, "sector": "spaceships"}), params=PS)


def test_outage_of_a_group_pools_its_members(chain: SupplyChain) -> None:
    one = simulate(
        chain,
        scenario(
            {
                "type": "production_outage",
                "country": "china",
                "material": "lithium",
                "share": 1.0,
                "duration_months": 2,
            }
        ),
        params=PS,
    )
    two = simulate(
        chain,
        scenario(
            {
                "type": "production_outage",
                "country": "CHN",
                "material": "lithium",
                "share": 1.0,
                "duration_months": 2,
            }
        ),
        params=PS,
    )
    np.testing.assert_array_equal(one.price_outside, two.price_outside)


def test_unknown_group_name_is_an_error_naming_the_event(chain: SupplyChain) -> None:
    with pytest.raises(InputError, match=r"event 0 \(export_restriction\), field targets: value 'allies'"):
        simulate(chain, scenario(restriction(targets="allies")), params=PS)
    with pytest.raises(InputError, match=r"field exporter: value 'chna'"):
        simulate(chain, scenario(restriction(exporter="chna")), params=PS)
