"""Calibration on the real atlas: the observed points, the fit's machinery and the report block."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from critmin.atlas import load_atlas
from critmin.cli import app
from critmin.disruption import simulate
from critmin.disruption.calibration import (
    BAND,
    FREE,
    NOT_MET,
    POINTS,
    REPORT_BEGIN,
    REPORT_END,
    evaluate,
    fit,
    report_table,
    write_report,
)
from critmin.disruption.events import bundled_scenario
from critmin.parameters import ParameterSet


@pytest.fixture(scope="module")
def atlas():  # type: ignore[no-untyped-def]
    return load_atlas()


def test_fewer_free_parameters_than_observed_points() -> None:
    assert len(FREE) < len(POINTS)
    for _, lo, hi in FREE.values():
        assert lo < hi


def test_calibrated_rows_carry_their_basis_and_lie_in_their_range() -> None:
    ps = ParameterSet()
    t = ps.table
    for (name, mat), (_, lo, hi) in FREE.items():
        row = t[(t["name"] == name) & (t["material"] == mat)]
        assert len(row) == 1, (name, mat)
        assert row["basis"].iloc[0] == "calibrated"
        assert "calibrat" in row["source"].iloc[0]
        assert lo <= float(row["value"].iloc[0]) <= hi


def test_fast_evaluation_equals_simulate(atlas) -> None:  # type: ignore[no-untyped-def]
    ps = ParameterSet().with_overrides({("storage_release_elasticity", "default"): 1.7})
    cal = evaluate(atlas, ps)
    runs = {name: simulate(atlas, bundled_scenario(name), ps) for name in {p.episode for p in POINTS}}
    for r in cal.points:
        run = runs[r.point.episode]
        path = run.price_outside if r.point.zone == "outside" else run.price_restrictor
        assert r.model == pytest.approx(float(path[run.row(r.point.material), r.point.month]), rel=1e-12)


def test_report_block_is_replaced_between_its_markers(atlas) -> None:  # type: ignore[no-untyped-def]
    table = report_table(evaluate(atlas))
    page = f"# title\n\ntext\n{REPORT_BEGIN}\nSTALE-BLOCK\n{REPORT_END}\nafter\n"
    new = write_report(table, page)
    assert new.startswith("# title\n\ntext\n") and new.endswith(f"{REPORT_END}\nafter\n")
    assert "STALE-BLOCK" not in new and table in new
    assert write_report(table, new) == new  # idempotent
    assert table.count("\n| ") == len(POINTS)  # one row per observed point below the header
    with pytest.raises(ValueError, match="markers"):
        write_report(table, "no markers here")


def test_every_observed_point_within_band_unless_listed_as_not_met(atlas) -> None:  # type: ignore[no-untyped-def]
    cal = evaluate(atlas)
    for r in cal.points:
        key = (r.point.episode, r.point.material, r.point.month)
        inside = 1.0 / BAND <= r.ratio <= BAND
        assert inside != (key in NOT_MET), (key, r.ratio)  # a listed miss is a real miss, nothing else misses


def test_methods_page_holds_the_regenerated_table(atlas) -> None:  # type: ignore[no-untyped-def]
    page = (Path(__file__).resolve().parents[2] / "docs/methods/calibration.md").read_text(encoding="utf-8")
    assert (
        write_report(report_table(evaluate(atlas)), page) == page
    )  # `critmin calibrate --report` is a no-op


def test_bundled_values_are_the_fitted_optimum(atlas) -> None:  # type: ignore[no-untyped-def]
    bundled = evaluate(atlas)
    best = fit(atlas)
    assert best.error <= bundled.error + 1e-9  # the fit never does worse than where it starts
    assert bundled.error <= best.error * 1.01 + 1e-6  # the bundled (rounded) values are the optimum
    for key, (_, lo, hi) in FREE.items():
        assert lo <= best.values[key] <= hi


def test_episodes_restrictor_price_never_rises_and_gallium_never_back_at_baseline(atlas) -> None:  # type: ignore[no-untyped-def]
    ga = simulate(atlas, bundled_scenario("gallium-2023"))
    g = ga.row("gallium")
    assert np.all(ga.price_restrictor[g] <= 1.0)
    # exports withheld in every month of the horizon (0 t, then -73%): no month back at 1.00
    assert np.all(ga.restricted_t[g] > 0) and np.all(ga.price_outside[g] >= 1.005)
    re_ = simulate(atlas, bundled_scenario("rare-earths-2010"))
    for m in ("magnet-rare-earths", "rare-earths"):
        i = re_.row(m)
        assert np.all(re_.price_restrictor[i] <= 1.0) and np.all(re_.price_outside[i] > 1.0)


def test_calibrate_report_command_rewrites_only_the_table(tmp_path: Path) -> None:
    page = tmp_path / "calibration.md"
    page.write_text(f"# head\n{REPORT_BEGIN}\nstale\n{REPORT_END}\ntail\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["calibrate", "--report", "--page", str(page)])
    assert res.exit_code == 0, res.output
    text = page.read_text(encoding="utf-8")
    assert "stale" not in text and text.startswith("# head\n") and text.endswith("tail\n")
    assert "| gallium-2023 | gallium, outside | 2 (2023-10) | 1.65 |" in text
    bad = tmp_path / "bad.md"
    bad.write_text("no markers\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["calibrate", "--report", "--page", str(bad)])
    assert (
        res.exit_code == 2 and "markers" in res.output and bad.read_text(encoding="utf-8") == "no markers\n"
    )
