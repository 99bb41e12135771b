"""Stage chain: USGS stage prices, the fair-value check between stages (hand-worked), deals by stage."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.atlas.loader import load_atlas
from critmin.cli import app
from critmin.parameters import ParameterSet
from critmin.pricing.stage_chain import fair_value_check, stage_chain, stage_prices


def test_germanium_oxide_to_metal_hand_worked() -> None:
    chain = stage_prices("germanium", load_atlas().prices)
    # USGS MCS 2026, 2025: germanium dioxide 2,500 USD/kg, germanium metal 4,100 USD/kg
    assert chain.set_index("stage")["price_usd_per_t"].to_dict() == {"oxide": 2.5e6, "metal": 4.1e6}
    check = fair_value_check(chain).iloc[0]
    # a tonne of metal contains the Ge of 1 / 0.69417 t of GeO2 (72.630 / 104.628)
    assert check["input_cost_usd_per_t"] == pytest.approx(2.5e6 / (72.630 / 104.628), rel=1e-4)
    assert check["margin_usd_per_t"] == pytest.approx(4.1e6 - 2.5e6 / 0.69417)
    assert check["check"] == "consistent" and 0 < check["margin_share"] < 0.5
    # a tighter margin limit flags the same prices
    tight = ParameterSet().with_overrides({("stage_max_conversion_margin_share", "default"): 0.1})
    assert fair_value_check(chain, tight).iloc[0]["check"] == "wide margin"


def test_rhenium_is_flagged_below_input_cost_and_stoichiometry() -> None:
    chain = stage_prices("rhenium", load_atlas().prices, year=2025)
    # USGS: ammonium perrhenate 2,300 USD/kg (gross weight) vs metal 2,600 USD/kg: the Re in APR costs more
    assert fair_value_check(chain).iloc[0]["check"] == "below input cost"
    t = stage_chain().set_index(["material", "stage"])["content"]
    assert t["germanium", "oxide"] == pytest.approx(72.630 / (72.630 + 2 * 15.999), rel=1e-4)
    assert t["ndpr-oxide", "magnet"] == pytest.approx(
        2 * 144.242 / (2 * 144.242 + 14 * 55.845 + 10.811), rel=1e-4
    )


def test_deals_fill_a_stage_without_a_public_price() -> None:
    chain = stage_prices("ndpr-oxide", load_atlas().prices)
    assert chain["price_usd_per_t"].isna().sum() == 2 and fair_value_check(chain).empty  # metal, magnet
    assessed = pd.DataFrame(
        {
            "material": ["ndpr-oxide"],
            "stage": ["metal"],
            "status": ["published"],
            "price_usd_per_t": [95_000.0],
        }
    )
    filled = stage_prices("ndpr-oxide", load_atlas().prices, assessed=assessed)
    row = fair_value_check(filled).iloc[0]
    # USGS 2025 NdPr oxide 69 USD/kg: 69 / 0.85735 = 80.5 USD/kg of contained metal; 95 leaves 15% margin
    assert (row["from_stage"], row["to_stage"]) == ("oxide", "metal")
    assert row["input_cost_usd_per_t"] == pytest.approx(69_000 / 0.85735)
    assert row["check"] == "consistent"
    with pytest.raises(ValueError, match="chains exist for"):
        stage_prices("unobtainium", load_atlas().prices)


def test_chain_command() -> None:
    res = CliRunner().invoke(app, ["price", "chain", "-m", "germanium", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [s["stage"] for s in out["stages"]] == ["oxide", "metal"] and out["checks"][0][
        "check"
    ] == "consistent"
    bad = CliRunner().invoke(app, ["price", "chain", "-m", "unobtainium"])
    assert bad.exit_code == 2 and "chains exist for" in bad.stderr
