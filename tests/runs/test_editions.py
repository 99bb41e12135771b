"""RunMetadata names only the data editions a run read (issue 11), on the real atlas."""

from __future__ import annotations

import pytest

from critmin.atlas import load_atlas
from critmin.runs import exposure, history, shock
from critmin.runs.editions import editions_read, production_rows


def test_exposure_detail_names_its_rows_edition_wgi_and_trade_only() -> None:
    atlas = load_atlas()
    res = exposure.run(exposure.ExposureRequest(material="gallium", stage="refine"), atlas=atlas)
    rows = production_rows(atlas, [("gallium", "refine")], int(res.one()["year"]))
    assert set(res.metadata.data_editions) == set(rows["edition"]) | {"wgi-2024", "baci-hs17-v202601"}
    # the pink sheet, WDI and the IEA outlook are not read by an exposure detail
    assert not {"wb-pinksheet-2026-06", "wb-wdi-2026-07", "iea-cm-2025"} & set(res.metadata.data_editions)


def test_shock_names_production_prices_and_trade_but_not_governance_or_gdp() -> None:
    atlas = load_atlas()
    res = shock.run(shock.ShockRequest(scenario="gallium-2023"), atlas=atlas)
    eds = set(res.metadata.data_editions)
    assert {"baci-hs17-v202601", "usgs-mcs2026"} <= eds
    assert not {"wgi-2024", "wb-wdi-2026-07", "wb-pinksheet-2026-06"} & eds
    assert res.to_dict()["data_editions"] == res.metadata.data_editions


def test_history_names_exactly_the_editions_of_its_rows() -> None:
    res = history.run(history.HistoryRequest(material="gallium", stage="refine"))
    assert set(res.metadata.data_editions) == set(res.long["edition"].dropna().astype(str))
    assert len(res.metadata.data_editions) >= 2  # several USGS editions over the years


def test_an_unknown_table_is_an_error() -> None:
    with pytest.raises(ValueError, match="table 'gdp'; expected one of trade, wgi, wdi, pinksheet"):
        editions_read(load_atlas(), tables=("gdp",))


def test_reserve_finance_names_the_books_prices_and_wgi() -> None:
    from critmin.runs.reserve_finance import ReserveFinanceRequest, run
    from vault.test_finance_cli import OPS

    res = run(ReserveFinanceRequest(operations=OPS, n_scenarios=20))
    eds = set(res.metadata.data_editions)
    assert {"usgs-mcs2026", "wgi-2024"} <= eds  # USGS prices of gallium and cobalt; governance weights
    assert not {"wb-wdi-2026-07", "wb-pinksheet-2026-06"} & eds
