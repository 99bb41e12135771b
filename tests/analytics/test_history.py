"""Producers' shares over time (``critmin history`` and the material page's history chart)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.analytics.history import REST, HistoryError, share_history, share_table
from critmin.atlas import load_atlas
from critmin.cli import app


def test_shares_sum_to_one_per_year_and_kind_and_projections_stay_apart() -> None:
    h = share_history(load_atlas(), "nickel", "mine")
    sums = h.groupby(["kind", "year"])["share"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    assert set(h.loc[h["kind"] == "projection", "year"]) == {2030, 2035, 2040}
    assert h.loc[h["kind"] == "observed", "year"].max() <= 2025
    # every observed year names the primary edition it came from
    obs = h[h["kind"] == "observed"]
    assert obs["edition"].ne("").all() and (obs.loc[obs["year"] <= 2015, "edition"] == "theler2020").all()


def test_rare_earth_history_reproduces_the_sources() -> None:
    h = share_history(load_atlas(), "rare-earths", "mine", top=3)
    chn = h[(h["iso3"] == "CHN") & (h["kind"] == "observed")].set_index("year")["share"]
    assert chn[2010] == pytest.approx(89_200 / 99_490)  # USGS Minerals Yearbook via Theler et al. 2020
    assert chn[2020] == pytest.approx(140_000 / 250_290)  # Minerals Yearbook 2022 table 8 (country rows)
    assert chn[2005] > 0.95 and chn[2024] < 0.75
    assert set(h["iso3"]) <= {"CHN", "USA", "KGZ", "AUS", REST}
    assert len(set(h["iso3"]) - {REST}) == 3


def test_top_n_folds_the_others_into_rest_without_changing_totals() -> None:
    atlas = load_atlas()
    wide = share_history(atlas, "cobalt", "mine", top=10)
    narrow = share_history(atlas, "cobalt", "mine", top=2)
    t_wide = wide.groupby(["kind", "year"])["tonnes"].sum()
    t_narrow = narrow.groupby(["kind", "year"])["tonnes"].sum()
    pd.testing.assert_series_equal(t_wide, t_narrow)
    assert narrow["iso3"].nunique() == 3


def test_unknown_material_or_stage_is_a_clear_error() -> None:
    atlas = load_atlas()
    with pytest.raises(HistoryError, match="unknown material"):
        share_history(atlas, "unobtainium", "mine")
    with pytest.raises(HistoryError, match="stages with data: mine"):
        share_history(atlas, "tungsten", "refine")


def test_share_table_is_one_row_per_year_and_kind() -> None:
    h = share_history(load_atlas(), "cobalt", "mine")
    wide = share_table(h)
    assert len(wide) == h.groupby(["year", "kind"]).ngroups
    assert "edition" in wide.columns


def test_history_command_csv_json_and_error() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["history", "--material", "rare-earths", "--stage", "mine", "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {"year", "kind", "iso3", "share", "edition", "source"} <= set(rows[0])
    chn10 = [r for r in rows if r["iso3"] == "CHN" and r["year"] == 2010]
    assert chn10[0]["share"] == pytest.approx(89_200 / 99_490)
    res = runner.invoke(app, ["history", "-m", "nickel", "-s", "refine", "-f", "csv"])
    assert res.exit_code == 0 and res.stdout.startswith("year,kind,iso3,tonnes,share,edition,source")
    res = runner.invoke(app, ["history", "-m", "nickel", "-s", "magnet"])
    assert res.exit_code == 2 and "no 'magnet' rows" in res.output


def test_material_page_shows_the_history_chart_with_projections_marked() -> None:
    from critmin.web.material import material_page

    page = material_page(load_atlas(), {"material": "nickel"})
    blocks = {b.key: b for b in page.blocks}
    mine = blocks["history-mine"]
    names = {t["name"] for t in mine.figure["data"]}
    assert any("(IEA projection)" in n for n in names) and any(n == "Indonesia" for n in names)
    assert set(mine.frame["kind"]) == {"observed", "projection"}


def test_exposure_runs_on_a_history_year() -> None:
    from critmin.analytics.exposure import exposure_detail, exposure_table

    atlas = load_atlas()
    d = exposure_detail(atlas, "rare-earths", "mine", 2010)
    assert d["year"] == 2010 and d["requested_year"] == 2010
    assert d["shares"]["CHN"] == pytest.approx(89_200 / 99_490)
    table = exposure_table(atlas, 2010)
    ree = table[(table["material"] == "rare-earths") & (table["stage"] == "mine")]
    assert int(ree["year"].iloc[0]) == 2010
    # a year before any data falls forward to the earliest year, and says so
    assert exposure_detail(atlas, "cobalt", "mine", 1990)["year"] == 1998
    res = CliRunner().invoke(app, ["exposure", "--year", "2010", "-f", "json"])
    assert res.exit_code == 0, res.output
