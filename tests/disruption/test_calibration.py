"""Calibration on the real atlas: the observed points, the fit's machinery and the report block."""

from __future__ import annotations

import pytest

from critmin.atlas import load_atlas
from critmin.disruption import simulate
from critmin.disruption.calibration import (
    FREE,
    POINTS,
    REPORT_BEGIN,
    REPORT_END,
    evaluate,
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
    page = f"# title\n\ntext\n{REPORT_BEGIN}\nold\n{REPORT_END}\nafter\n"
    new = write_report(table, page)
    assert new.startswith("# title\n\ntext\n") and new.endswith(f"{REPORT_END}\nafter\n")
    assert "old" not in new and table in new
    assert write_report(table, new) == new  # idempotent
    assert table.count("\n| ") == len(POINTS)  # one row per observed point below the header
    with pytest.raises(ValueError, match="markers"):
        write_report(table, "no markers here")
