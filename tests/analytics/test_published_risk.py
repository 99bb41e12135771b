"""The published EU supply-risk and GeoPolRisk formulas reproduce hand-worked examples."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.analytics.published_risk import (
    EU_SR_NAME,
    GPR_NAME,
    eu_sr_published,
    geopolrisk_published,
    hhi_wgi_t,
)


def test_eu_sr_hand_worked_example() -> None:
    # global supply: A 60 t, B 40 t; WGI (0-10): A 8, B 2
    # HHI_WGI(GS) = 0.6^2*8 + 0.4^2*2 = 2.88 + 0.32 = 3.20
    # EU sourcing: own production E 20 t, imports from A 30 t, from B 50 t (WGI E 1)
    # HHI_WGI(src) = 0.2^2*1 + 0.3^2*8 + 0.5^2*2 = 0.04 + 0.72 + 0.50 = 1.26
    # IR = (80 - 0) / (20 + 80 - 0) = 0.8; EOL-RIR 0.1; SI 0.9
    # SR = (3.20*0.4 + 1.26*0.6) * 0.9 * 0.9 = (1.28 + 0.756) * 0.81 = 1.64916
    wgi = pd.Series({"A": 8.0, "B": 2.0, "E": 1.0})
    gs = pd.Series({"A": 60.0, "B": 40.0})
    src = pd.Series({"E": 20.0, "A": 30.0, "B": 50.0})
    r = eu_sr_published(gs, src, imports_t=80, exports_t=0, domestic_t=20, wgi=wgi, eol_rir=0.1, si_sr=0.9)
    assert r.method == EU_SR_NAME
    assert r.terms["hhi_wgi_gs"] == pytest.approx(3.20)
    assert r.terms["hhi_wgi_sourcing"] == pytest.approx(1.26)
    assert r.terms["ir"] == pytest.approx(0.8)
    assert r.value == pytest.approx(1.64916)


def test_eu_sr_trade_factor_and_limits() -> None:
    wgi = pd.Series({"A": 8.0, "B": 2.0})
    gs = pd.Series({"A": 60.0, "B": 40.0})
    # an export restriction by A (t_A = 1.5): 0.36*8*1.5 + 0.16*2 = 4.32 + 0.32
    assert hhi_wgi_t(gs, wgi, pd.Series({"A": 1.5})) == pytest.approx(4.64)
    with pytest.raises(ValueError, match=r"\[1, 2\]"):
        hhi_wgi_t(gs, wgi, pd.Series({"A": 3.0}))
    # no imports: IR = 0, only the sourcing term counts
    r = eu_sr_published(gs, gs, imports_t=0, exports_t=0, domestic_t=100, wgi=wgi, eol_rir=0, si_sr=1)
    assert r.terms["ir"] == 0 and r.value == pytest.approx(3.20)
    with pytest.raises(ValueError, match="IR is undefined"):
        eu_sr_published(gs, gs, imports_t=0, exports_t=10, domestic_t=5, wgi=wgi, eol_rir=0, si_sr=1)


def test_geopolrisk_hand_worked_example() -> None:
    # HHI 0.5; imports: A 30 t (g 0.8), B 10 t (g 0.4), M 20 t (a group member, g 0.6 -> 0); production 40 t
    # sum g_i F_i / (F + P) = (0.8*30 + 0.4*10 + 0*20) / (60 + 40) = 28/100 = 0.28; GPRS = 0.5*0.28 = 0.14
    imports = pd.Series({"A": 30.0, "B": 10.0, "M": 20.0})
    g = pd.Series({"A": 0.8, "B": 0.4, "M": 0.6})
    r = geopolrisk_published(0.5, imports, domestic_t=40, governance=g, group={"M"})
    assert r.method == GPR_NAME
    assert r.terms["weighted_import_risk"] == pytest.approx(0.28)
    assert r.value == pytest.approx(0.14)
    # metamorphic: more domestic production lowers the score; counting M as outside raises it
    assert geopolrisk_published(0.5, imports, 100, g, {"M"}).value < r.value
    assert geopolrisk_published(0.5, imports, 40, g).value == pytest.approx(0.5 * (28 + 12) / 100)
    with pytest.raises(ValueError, match="governance risk"):
        geopolrisk_published(0.5, imports, 40, g.drop("B"))


def test_exposure_reports_both_published_methods_beside_critmins_variants() -> None:
    from critmin.analytics.exposure import exposure_detail
    from critmin.atlas import load_atlas

    d = exposure_detail(load_atlas(), "cobalt", "refine", 2024, "eu27")
    by = {r["method"]: r for r in d["risk_methods"]}
    assert set(by) == {EU_SR_NAME, GPR_NAME}
    sr = by[EU_SR_NAME]
    t = sr["terms"]
    assert sr["value"] == pytest.approx(
        (t["hhi_wgi_gs"] * t["ir"] / 2 + t["hhi_wgi_sourcing"] * (1 - t["ir"] / 2))
        * (1 - t["eol_rir"])
        * t["si_sr"]
    )
    assert any("assumption" in f for f in sr["flags"]) and sr["flags"][0].startswith("trade tonnes = BACI")
    # critmin's own variants stay, under their own keys
    assert d["supply_risk"] > 0 and d["geopolrisk"] is not None
    gpr = by[GPR_NAME]
    assert gpr["terms"]["domestic_t"] > 0 and 0 <= gpr["value"] <= gpr["terms"]["hhi"]


def test_content_tonnes_use_baci_quantities_where_present_else_value_over_price() -> None:
    from critmin.analytics.published_risk import _content_tonnes

    rows = pd.DataFrame({"value_usd": [100.0, 300.0], "tonnes": [10.0, float("nan")]})
    t, how = _content_tonnes(rows, price=50.0, factor=0.5)
    assert t.tolist() == [5.0, 6.0]  # 10 t gross x 0.5; 300 USD / 50 USD/t
    assert "25% of the value" in how
    t, how = _content_tonnes(rows, price=50.0, factor=None)
    assert t.tolist() == [2.0, 6.0] and "stand-in" in how
