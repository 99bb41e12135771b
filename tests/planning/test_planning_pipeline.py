"""The project pipeline: conversions on the real projects, class defaults, validation of user files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from critmin.parameters import ParameterSet
from critmin.planning.pipeline import (
    PROJECT_COLUMNS,
    ProjectDataError,
    build_pipeline,
    load_bundled_projects,
    load_conversions,
    load_user_projects,
)


@pytest.fixture(scope="module")
def pipeline():
    return build_pipeline()


def row(p, pid: str) -> pd.Series:
    return p.projects.set_index("project_id").loc[pid]


def test_bundled_pipeline_has_all_68_rows_each_included_or_with_a_reason(pipeline) -> None:
    p = pipeline.projects
    assert len(p) == 68 == len(load_bundled_projects())
    assert (p.loc[~p["included"], "exclusion_reason"].str.len() > 0).all()
    assert (p.loc[p["included"], "exclusion_reason"] == "").all()
    inc = p[p["included"]]
    # every included project has every planning figure and a source to cite
    for col in ["capacity_t", "capex_usd", "unit_opex_usd_per_t", "lead_time_years", "ramp_up_years"]:
        assert np.isfinite(inc[col].to_numpy(dtype=float)).all(), col
    assert inc["source_url"].str.startswith("http").all()


def test_lithium_capacity_converted_by_stoichiometry(pipeline) -> None:
    # Thacker Pass phase 1: 40,000 t/yr lithium carbonate -> Li content 2*6.94/73.89 = 0.1878
    tp = row(pipeline, "lac-thacker-pass-ph1")
    assert tp["material"] == "lithium" and tp["stage"] == "refine"
    assert tp["capacity_t"] == pytest.approx(40000 * 0.1878)
    assert tp["conversion_factor"] == pytest.approx(2 * 6.94 / 73.89, rel=1e-3)
    # Keliber: lithium hydroxide monohydrate 15,000 t -> 6.94/41.96
    ke = row(pipeline, "keliber-kokkola")
    assert ke["capacity_t"] == pytest.approx(15000 * 0.1654)
    assert ke["conversion_factor"] == pytest.approx(6.94 / 41.96, rel=1e-3)
    # every factor in the table has a source
    conv = load_conversions()
    with_factor = conv[conv["factor"].str.strip() != ""]
    assert (with_factor["source"].str.len() > 0).all()


def test_exclusions_name_their_reason(pipeline) -> None:
    assert "cancelled" in row(pipeline, "jervois-idaho-cobalt")["exclusion_reason"]
    assert "already in the atlas baseline" in row(pipeline, "lynas-malaysia-lamp")["exclusion_reason"]
    assert row(pipeline, "perpetua-stibnite")["exclusion_reason"] == "no capacity stated in the source"
    kz = row(pipeline, "korea-zinc-crucible-clarksville")
    assert not kz["included"] and "no split" in kz["exclusion_reason"]
    # operating projects that started after the baseline year are candidates, not baseline
    assert row(pipeline, "solvay-la-rochelle")["included"]


def test_missing_capex_uses_the_median_class_default_and_is_flagged(pipeline) -> None:
    p = pipeline.projects
    peers = p[
        p["included"]
        & (p["material"] == "lithium")
        & (p["stage"] == "refine")
        & ~p["defaults_used"].str.contains("capex_usd_per_tpa")
    ]
    median = float(np.median(peers["capex_usd"] / peers["capacity_t"]))
    ke = row(pipeline, "keliber-kokkola")
    assert "capex_usd_per_tpa_refine[lithium]" in ke["defaults_used"].split(";")
    assert ke["capex_usd"] == pytest.approx(median * ke["capacity_t"])
    cd = pipeline.class_defaults
    hit = cd[(cd["material"] == "lithium") & (cd["stage"] == "refine")].iloc[0]
    assert hit["value"] == pytest.approx(median) and hit["basis"].startswith("derived: median over")
    # a project that states capex does not carry the capex flag
    assert "capex_usd_per_tpa" not in row(pipeline, "lac-thacker-pass-ph1")["defaults_used"]


def test_class_defaults_are_overridable() -> None:
    params = ParameterSet().with_overrides(
        {("capex_usd_per_tpa_refine", "lithium"): 1e5, ("plan_lead_time_years_construction", "default"): 3}
    )
    p = build_pipeline(params=params)
    ke = row(p, "keliber-kokkola")
    assert ke["capex_usd"] == pytest.approx(1e5 * ke["capacity_t"])
    assert ke["lead_time_years"] == 3


def test_lead_time_from_status_default_and_earliest_start_from_first_production(pipeline) -> None:
    params = ParameterSet()
    tp = row(pipeline, "lac-thacker-pass-ph1")  # construction, first production 2027
    lead = params.get("plan_lead_time_years_construction")
    assert tp["lead_time_years"] == lead
    assert tp["earliest_start"] == max(params.get("plan_first_year"), 2027 - lead)
    assert "plan_lead_time_years_construction" in tp["defaults_used"]


def _write(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    df = pd.DataFrame(rows)
    for c in PROJECT_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    path = tmp_path / "member_projects.csv"
    df.to_csv(path, index=False)
    return path


GOOD = {
    "project_id": "member-li-refinery",
    "name": "Member lithium hydroxide refinery",
    "company": "Member Co",
    "country_iso3": "AUS",
    "material": "lithium",
    "stage": "refine",
    "capacity_t_per_year": "10000",
    "capacity_basis": "lithium hydroxide monohydrate",
    "capex_usd_m": "500",
    "status": "feasibility",
    "source_title": "Member submission 2026-11",
    "source_url": "https://example.org/member-submission",
    "unit_opex_usd_per_t": "9000",
    "lead_time_years": "3",
}


def test_user_projects_join_the_pipeline_with_their_own_figures(tmp_path: Path) -> None:
    user = load_user_projects(_write(tmp_path, [GOOD])).assign(origin="member")
    p = build_pipeline(pd.concat([load_bundled_projects().assign(origin="bundled"), user], ignore_index=True))
    r = row(p, "member-li-refinery")
    assert r["included"] and r["origin"] == "member"
    assert r["capacity_t"] == pytest.approx(10000 * 0.1654)
    assert r["capex_usd"] == 5e8 and r["unit_opex_usd_per_t"] == 9000 and r["lead_time_years"] == 3
    assert r["defaults_used"] == "plan_ramp_up_years"


def test_bad_user_file_lists_every_problem_and_loads_nothing(tmp_path: Path) -> None:
    bad = [
        {**GOOD, "country_iso3": "XXA", "capacity_t_per_year": "ten"},
        {**GOOD, "project_id": "member-li-refinery", "status": "dreaming"},
    ]
    with pytest.raises(ProjectDataError) as exc:
        load_user_projects(_write(tmp_path, bad))
    msg = str(exc.value)
    assert "member_projects.csv row 2, column country_iso3: 'XXA'" in msg
    assert "row 2, column capacity_t_per_year: 'ten'; expected a number" in msg
    assert "row 3, column project_id: 'member-li-refinery' repeats row 2" in msg
    assert "row 3, column status: 'dreaming'; expected one of" in msg
    assert len(exc.value.problems) == 4


def test_missing_column_and_duplicate_bundled_id_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    pd.DataFrame([{"project_id": "x"}]).to_csv(path, index=False)
    with pytest.raises(ProjectDataError, match="missing columns"):
        load_user_projects(path)
    clash = load_user_projects(_write(tmp_path, [{**GOOD, "project_id": "lac-thacker-pass-ph1"}]))
    with pytest.raises(ProjectDataError, match="appears twice"):
        build_pipeline(pd.concat([load_bundled_projects(), clash], ignore_index=True))
