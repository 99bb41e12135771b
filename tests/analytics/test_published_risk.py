"""The published EU supply-risk and GeoPolRisk formulas reproduce hand-worked examples."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.analytics.published_risk import (
    EU_EI_NAME,
    EU_SR_NAME,
    GPR_NAME,
    eu_ei_published,
    eu_sr_published,
    geopolrisk_published,
    group_value_added,
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
    assert set(by) == {EU_SR_NAME, GPR_NAME, EU_EI_NAME}
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


def test_eu_ei_hand_worked_example() -> None:
    # EC 2017 section 3.1: EI = sum_s A_s * Q_s * SI_EI (here over GDP). End use 40% motor vehicles (Q 100),
    # 35% electrical equipment (Q 80), 25% chemicals (Q 120), in bn USD; SI_EI 0.9; GDP 2,000:
    # (0.4*100 + 0.35*80 + 0.25*120) = 98; 98 * 0.9 / 2000 = 0.0441
    a = pd.Series({"C29": 0.40, "C27": 0.35, "C20": 0.25})
    q = pd.Series({"C20": 120e9, "C27": 80e9, "C29": 100e9, "C10": 500e9})  # aligned by label, C10 unused
    ei = eu_ei_published(a, q, 2_000e9, 0.9, flags=["example"])
    assert ei.method == EU_EI_NAME and ei.flags == ["example"]
    assert ei.terms["sum_as_qs_usd"] == pytest.approx(98e9)
    assert ei.value == pytest.approx(0.0441)
    # without substitution credit (SI_EI 1): 98 / 2000 = 0.049; an end use in a sector without value added
    # is an error, never a silent zero
    assert eu_ei_published(a, q, 2_000e9, 1.0).value == pytest.approx(0.049)
    with pytest.raises(ValueError, match=r"no sector value added for end-use sectors \['C30'\]"):
        eu_ei_published(pd.Series({"C30": 0.5}), q, 2_000e9, 1.0)
    with pytest.raises(ValueError, match="summing to <= 1"):
        eu_ei_published(pd.Series({"C20": 0.7, "C27": 0.6}), q, 2_000e9, 1.0)
    with pytest.raises(ValueError, match="si_ei"):
        eu_ei_published(a, q, 2_000e9, 1.2)


def test_group_value_added_takes_each_members_latest_complete_year() -> None:
    gdp = pd.DataFrame(
        {"iso3": ["A", "A", "B", "B", "C"], "year": [2023, 2024, 2022, 2024, 2025],
         "gdp_usd": [90.0, 100.0, 40.0, 50.0, 7.0], "industry_va_usd": [20.0, 25.0, 10.0, float("nan"), 1.0]}
    )  # fmt: skip
    industry, total, missing = group_value_added(gdp, {"A", "B", "C", "TWN"}, 2024)
    # A 2024 (25 of 100); B 2022, its last year with both (10 of 40); C only after 2024; TWN not in WDI
    assert (industry, total) == (35.0, 140.0) and missing == ["C", "TWN"]


def test_exposure_reports_economic_importance_from_wdi_with_its_flags() -> None:
    from critmin.analytics.exposure import exposure_detail
    from critmin.atlas import load_atlas
    from critmin.parameters import ParameterSet

    atlas = load_atlas()
    d = exposure_detail(atlas, "cobalt", "refine", 2024, "eu27")
    ei = {r["method"]: r for r in d["risk_methods"]}[EU_EI_NAME]
    members = sorted(atlas.groups["eu27"])
    g = atlas.gdp[atlas.gdp["iso3"].isin(members) & (atlas.gdp["year"] == 2024)]
    assert len(g) == 27 and g["industry_va_usd"].notna().all()  # every EU member has WDI 2024 figures
    assert ei["terms"]["gdp_usd"] == pytest.approx(float(g["gdp_usd"].sum()))
    share = float(g["industry_va_usd"].sum() / g["gdp_usd"].sum())
    assert ei["value"] == pytest.approx(share) and 0.15 < share < 0.3  # EU industry ~ a fifth of GDP
    assert any("A_industry = 1" in f for f in ei["flags"]) and any("SI_EI = 1" in f for f in ei["flags"])
    # SI_EI is a per-material parameter and scales EI linearly
    ps = ParameterSet().with_overrides({("substitution_index_ei", "cobalt"): 0.8})
    d2 = exposure_detail(atlas, "cobalt", "refine", 2024, "eu27", params=ps)
    ei2 = {r["method"]: r for r in d2["risk_methods"]}[EU_EI_NAME]
    assert ei2["value"] == pytest.approx(0.8 * share) and not any("SI_EI = 1" in f for f in ei2["flags"])
