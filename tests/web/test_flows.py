"""Mine-to-refine allocation of the Sankey: hand-worked oracle and invariants."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.web.flows import mine_to_refine, top_flows


def _as_dict(flows: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    return {(r.mine_iso3, r.refine_iso3, r.basis): round(r.tonnes, 9) for r in flows.itertuples()}


def test_hand_worked_allocation() -> None:
    # AUS mines 100, refines 60: keeps 60; 40 left, no ore exports -> other refiners: DEU 120 -> all 40.
    # BRA mines 50, refines 0: BACI ore exports DEU 30, AUS 10 USD -> 37.5 / 12.5 (trade-based).
    # CAN mines 30, no exports: split over AUS 60 and DEU 120 -> 10 / 20 (proportional).
    mine = pd.Series({"AUS": 100.0, "BRA": 50.0, "CAN": 30.0})
    refine = pd.Series({"AUS": 60.0, "DEU": 120.0})
    ore = pd.DataFrame({"exporter": ["BRA", "BRA"], "importer": ["DEU", "AUS"], "value_usd": [30.0, 10.0]})
    got = _as_dict(mine_to_refine(mine, refine, ore))
    assert got == {
        ("AUS", "AUS", "domestic"): 60.0,
        ("AUS", "DEU", "proportional"): 40.0,
        ("BRA", "DEU", "trade"): 37.5,
        ("BRA", "AUS", "trade"): 12.5,
        ("CAN", "AUS", "proportional"): 10.0,
        ("CAN", "DEU", "proportional"): 20.0,
    }


def test_no_refiner_is_reported_not_invented() -> None:
    flows = mine_to_refine(pd.Series({"AUS": 5.0}), pd.Series(dtype=float), pd.DataFrame(
        {"exporter": [], "importer": [], "value_usd": []}))  # fmt: skip
    assert _as_dict(flows) == {("AUS", "unallocated", "no refiner"): 5.0}


def test_other_countries_are_not_domestic() -> None:
    flows = mine_to_refine(pd.Series({"OTH": 10.0}), pd.Series({"OTH": 4.0, "JPN": 6.0}), pd.DataFrame(
        {"exporter": [], "importer": [], "value_usd": []}))  # fmt: skip
    assert _as_dict(flows) == {("OTH", "OTH", "proportional"): 4.0, ("OTH", "JPN", "proportional"): 6.0}


def test_self_trade_is_ignored() -> None:
    ore = pd.DataFrame({"exporter": ["AUS", "AUS"], "importer": ["AUS", "JPN"], "value_usd": [100.0, 1.0]})
    got = _as_dict(mine_to_refine(pd.Series({"AUS": 10.0}), pd.Series({"JPN": 1.0, "AUS": 4.0}), ore))
    assert got == {("AUS", "AUS", "domestic"): 4.0, ("AUS", "JPN", "trade"): 6.0}


countries = st.sampled_from(["AUS", "BRA", "CAN", "DEU", "JPN", "USA"])
tonnes = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(countries, tonnes, min_size=1),
    st.dictionaries(countries, tonnes, min_size=1),
    st.lists(st.tuples(countries, countries, tonnes), max_size=8),
)
def test_flows_conserve_mine_output(mine_d: dict, refine_d: dict, trade: list) -> None:
    mine, refine = pd.Series(mine_d, dtype=float), pd.Series(refine_d, dtype=float)
    ore = pd.DataFrame(trade, columns=["exporter", "importer", "value_usd"])
    flows = mine_to_refine(mine, refine, ore)
    assert (flows["tonnes"] >= 0).all()
    assert abs(flows["tonnes"].sum() - mine[mine > 0].sum()) <= 1e-9 * max(1.0, mine.sum())
    domestic = flows[flows["basis"] == "domestic"].set_index("mine_iso3")["tonnes"]
    assert "OTH" not in domestic.index
    for iso, kept in domestic.items():
        assert kept <= refine[iso] + 1e-9
    folded = top_flows(flows, n=2)
    assert abs(folded["tonnes"].sum() - flows["tonnes"].sum()) <= 1e-6 * max(1.0, flows["tonnes"].sum())
    assert folded["mine_iso3"].nunique() <= 3 and folded["refine_iso3"].nunique() <= 3
