"""Members' stake: hand-worked trade with China under the levy and retaliation, and real BACI facts."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.atlas.loader import load_atlas
from critmin.parameters import ParameterSet
from critmin.pricing.stake import members_stake


def _trade() -> pd.DataFrame:
    rows = [
        (2024, "ARG", "CHN", "lithium", 400.0),
        (2024, "ARG", "USA", "lithium", 100.0),
        (2024, "CHN", "ARG", "graphite", 50.0),
        (2024, "KOR", "CHN", "copper", 10.0),
        (2024, "CHN", "KOR", "graphite", 200.0),
        (2024, "CHN", "KOR", "gallium", 100.0),
        (2022, "ARG", "CHN", "lithium", 999.0),  # another year: ignored
    ]
    df = pd.DataFrame(rows, columns=["year", "exporter", "importer", "material", "value_usd"])
    return df.assign(hs6="000000", stage="refine")


PARAMS = ParameterSet().with_overrides({("price_elasticity_demand_long_run", "default"): -0.5})


def test_hand_worked_stake() -> None:
    res = members_stake(_trade(), {"ARG", "KOR", "CHN"}, levy_rate={"graphite": 0.21}, params=PARAMS)
    m = res.members.set_index("iso3")
    assert res.year == 2024 and list(m.index) == ["ARG", "KOR"]  # sorted by retaliation loss; China left out
    assert m.loc["ARG", "exports_to_china_usd"] == 400 and m.loc["ARG", "exports_total_usd"] == 500
    assert m.loc["ARG", "share_of_exports_to_china"] == pytest.approx(0.8)
    # retaliation with no redirection: all 400 lost = 80% of Argentina's critical-mineral exports
    assert m.loc["ARG", "retaliation_export_loss_usd"] == 400
    assert m.loc["ARG", "retaliation_loss_pct_of_exports"] == pytest.approx(80.0)
    # levy 21% on graphite, elasticity -0.5: imports 50 -> 50 * 1.21 ** -0.5 = 50 / 1.1
    assert m.loc["ARG", "levy_import_change_usd"] == pytest.approx(50 / 1.1 - 50)
    assert m.loc["ARG", "levy_paid_usd"] == pytest.approx(0.21 * 50 / 1.1)
    # Korea: graphite is levied, gallium (not in the rate table) is not
    assert m.loc["KOR", "levy_import_change_usd"] == pytest.approx(200 / 1.1 - 200)
    assert m.loc["KOR", "imports_from_china_usd"] == 300


def test_redirect_share_and_zero_levy() -> None:
    params = PARAMS.with_overrides({("stake_retaliation_redirect_share", "default"): 0.25})
    res = members_stake(_trade(), ["ARG", "KOR"], params=params)
    m = res.members.set_index("iso3")
    assert m.loc["ARG", "retaliation_export_loss_usd"] == 300
    assert (res.members["levy_import_change_usd"] == 0).all() and (res.members["levy_paid_usd"] == 0).all()
    with pytest.raises(ValueError, match="no rows for year 2019"):
        members_stake(_trade(), ["ARG"], year=2019)


def test_real_baci_argentina_and_korea() -> None:
    atlas = load_atlas()
    res = members_stake(atlas.trade, atlas.groups["ministerial-2026"], levy_rate=0.2)
    m = res.members.set_index("iso3")
    assert res.year == 2024 and "CHN" not in m.index
    # BACI V202601, 2024: ARG -> CHN lithium carbonate (283691) 408,984,208 USD + magnets (850511) 2,024 USD
    assert m.loc["ARG", "exports_to_china_usd"] == pytest.approx(408_984_208 + 2_024)
    # KOR -> CHN over the bundled HS6 subset, 2024 (sum of the raw BACI rows)
    assert m.loc["KOR", "exports_to_china_usd"] == pytest.approx(1_175_861_536)
    # a 20% levy lowers every member's imports from China and never raises them
    assert (res.members["levy_import_change_usd"] <= 0).all()
    assert (res.members["retaliation_export_loss_usd"] == res.members["exports_to_china_usd"]).all()
