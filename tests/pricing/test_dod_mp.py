"""Acceptance: the DoD-MP NdPr floor ($110/kg, 10 years) on its documented volume path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from critmin.pricing.volumes import dod_mp_volume_path, project_ramp
from critmin.runs.floor import FloorRequest, run

KG = 1000.0


def test_documented_volume_path() -> None:
    df = dod_mp_volume_path()
    assert df["year"].tolist() == list(range(2026, 2036))
    # max(Mountain Pass 2024 NdPr oxide ~1,300 t, NdPr oxide in the magnet output x 0.3112 t/t)
    nd_share_magnet = 2 * 144.242 / (2 * 144.242 + 14 * 55.845 + 10.811)  # Nd2Fe14B
    nd_share_oxide = 2 * 144.242 / (2 * 144.242 + 3 * 15.999)  # Nd2O3
    factor = nd_share_magnet / nd_share_oxide
    independence = project_ramp(1000.0, 2026, 2, 2026, 10)
    tenx = project_ramp(9000.0, 2028, 2, 2026, 10)
    magnets = np.add(independence, tenx)
    np.testing.assert_allclose(df["magnets_t"], magnets, atol=0.5)
    np.testing.assert_allclose(df["tonnes"], np.maximum(1300.0, factor * magnets), atol=0.06)
    assert df["tonnes"].is_monotonic_increasing and df["tonnes"].iloc[-1] > 2 * df["tonnes"].iloc[0]


def test_dod_mp_floor_cost_distribution_and_worked_arithmetic() -> None:
    req = FloorRequest(
        material="ndpr-oxide",
        mechanism="floor-share",
        strike_usd_per_kg=110,
        volume_path="dod-mp",
        paths=2000,
    )
    out = run(req)
    s = out.summary
    total_t = float(dod_mp_volume_path()["tonnes"].sum())
    assert s["years"] == 10 and s["volume_t_total"] == pytest.approx(total_t)
    assert s["volume_source"] == "critmin/pricing/examples/dod_mp_ndpr_volumes.csv"
    for key in ("fiscal_cost_total_usd", "fiscal_cost_pv_usd"):
        d = s[key]
        assert set(d) == {"mean", "p5", "p50", "p95"} and d["p5"] < d["p50"] < d["p95"]
    # the worked arithmetic: 63 USD/kg -> 47 USD/kg paid; 123 USD/kg -> nothing paid, 30% x 13 = 3.9 back
    low, high = s["worked_example"]
    assert (low["benchmark_usd_per_kg"], low["government_pays_usd_per_kg"]) == (63.0, pytest.approx(47.0))
    assert low["paid_back_usd_per_kg"] == 0.0
    assert (high["benchmark_usd_per_kg"], high["government_pays_usd_per_kg"]) == (123.0, 0.0)
    assert high["paid_back_usd_per_kg"] == pytest.approx(3.9)
    # the volume path, not a flat volume: the same paths with the first year's volume flat cost less
    flat = run(req.model_copy(update={"volume_path": None, "volume_t": 1300.0}))
    ratio = s["fiscal_cost_total_usd"]["mean"] / flat.summary["fiscal_cost_total_usd"]["mean"]
    assert ratio == pytest.approx(total_t / 13_000.0, rel=0.25) and ratio > 1.5
    assert out.metadata.parameters["mech_upside_share[default]"] == 0.3


def test_dod_mp_floor_on_a_flat_63_benchmark(tmp_path: Path) -> None:
    series = tmp_path / "flat.csv"  # a flat 63 USD/kg history fits a model with no volatility
    series.write_text("month,usd_per_t\n" + "".join(f"2025-{m:02d},63000\n" for m in range(1, 13)))
    req = FloorRequest(
        material="ndpr-oxide",
        mechanism="floor-share",
        strike_usd_per_kg=110,
        volume_path="dod-mp",
        paths=20,
        series=str(series),
        projects=False,
    )
    s = run(req).summary
    total_t = float(dod_mp_volume_path()["tonnes"].sum())
    # 47 USD/kg on every tonne of the path, on every path
    assert s["fiscal_cost_total_usd"]["p5"] == pytest.approx(47 * KG * total_t, rel=1e-9)
    assert s["fiscal_cost_total_usd"]["p95"] == pytest.approx(47 * KG * total_t, rel=1e-9)
    assert s["fiscal_cost_per_t_usd"]["mean"] == pytest.approx(47 * KG)


def test_volume_from_a_pipeline_projects_ramp() -> None:
    # Energy Fuels White Mesa phase 2: 6,000 t/yr NdPr oxide from 2029 (pipeline), planning ramp R = 2;
    # the NdPr model's last price is 2025, so the horizon starts in 2026
    req = FloorRequest(
        material="ndpr-oxide",
        mechanism="floor",
        strike_usd_per_kg=110,
        volume_project="energy-fuels-white-mesa-phase2",
        paths=50,
        projects=False,
    )
    s = run(req).summary
    assert s["volume_t_per_year"] == [0.0, 0.0, 0.0, 2000.0, 4000.0] + [6000.0] * 5
    assert s["volume_source"] == "pipeline project energy-fuels-white-mesa-phase2 from 2026 (planning ramp)"
    with pytest.raises(ValueError, match="not a pipeline project id"):
        run(req.model_copy(update={"volume_project": "nowhere"}))
