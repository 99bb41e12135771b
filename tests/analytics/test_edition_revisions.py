"""Edition revisions on the real data (issue 13 item 10): one tonnes format; a note where MCS 2025 and
MCS 2026 disagree on a year's world total by more than edition_revision_note_share (25%)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from critmin.analytics.exposure import exposure_table
from critmin.analytics.revisions import edition_revisions, mcs2025_estimates, with_revision_notes
from critmin.atlas import load_atlas
from critmin.atlas.chain import SupplyChain
from critmin.cli import app
from critmin.parameters import ParameterSet

runner = CliRunner()


@pytest.fixture(scope="module")
def atlas() -> SupplyChain:
    return load_atlas()


def test_mercury_2024_revision_is_flagged(atlas: SupplyChain) -> None:
    rev = edition_revisions(atlas).set_index(["material", "stage"])
    hg = rev.loc[("mercury", "mine")]
    # MCS 2025 World total (rounded) 2024 estimate 1,200 t; MCS 2026 2024 world total 212 t
    assert (hg["earlier_t"], hg["later_t"]) == (1200.0, 212.0)
    assert hg["change"] == pytest.approx(212 / 1200 - 1)
    assert (
        bool(hg["flagged"])
        and "1,200 t in MCS 2025" in hg["note"]
        and "212 t in MCS 2026 (-82%)" in hg["note"]
    )
    assert sorted(rev.index[rev["flagged"]].get_level_values(0)) == ["mercury", "rhenium"]


def test_revision_invariants(atlas: SupplyChain) -> None:
    rev = edition_revisions(atlas)
    wt = atlas.world_totals
    later = wt[(wt["edition"] == "usgs-mcs2026") & (wt["year"] == 2024)].set_index(["material", "stage"])
    est = mcs2025_estimates(atlas)
    both = set(zip(est["material"], est["stage"], strict=True)) & set(later.index[later["tonnes"].notna()])
    assert set(zip(rev["material"], rev["stage"], strict=True)) == both  # every pair both editions give
    assert len(rev) == len(both) > 40
    for r in rev.itertuples(index=False):
        assert r.later_t == later.loc[(r.material, r.stage), "tonnes"]
        assert r.flagged == (abs(r.later_t / r.earlier_t - 1) > 0.25)
        assert (r.note != "") == r.flagged


def test_threshold_is_the_parameter(atlas: SupplyChain) -> None:
    loose = ParameterSet().with_overrides({("edition_revision_note_share", "default"): 0.9})
    assert not edition_revisions(atlas, loose)["flagged"].any()  # the largest revision is mercury's 82%
    strict = ParameterSet().with_overrides({("edition_revision_note_share", "default"): 0.0})
    rev = edition_revisions(atlas, strict)
    assert rev["flagged"].tolist() == (rev["change"] != 0).tolist()


def test_notes_only_on_rows_from_the_later_edition(atlas: SupplyChain) -> None:
    t2024 = with_revision_notes(exposure_table(atlas, 2024), atlas)
    noted = t2024[t2024["note"] != ""]
    assert sorted(noted["material"]) == ["mercury", "rhenium"]
    assert (noted["source"] == "usgs (usgs-mcs2026)").all()
    t2023 = with_revision_notes(exposure_table(atlas, 2023), atlas)  # 2023 figures come from MCS 2025
    assert (t2023["note"] == "").all()
    assert t2024.drop(columns="note").equals(exposure_table(atlas, 2024))  # only a column is added


def test_exposure_output_has_one_tonnes_format_and_the_note() -> None:
    res = runner.invoke(app, ["exposure"])
    assert res.exit_code == 0, res.output
    iron = next(line for line in res.stdout.splitlines() if line.lstrip().startswith("iron-ore"))
    assert "1,603,540,000" in iron
    assert re.search(r"\d(\.\d)?[Mk]\b", res.stdout) is None  # no 1603.5M or 72.8k
    assert "note: mercury / mine: editions disagree: 2024 world total 1,200 t in MCS 2025" in res.stdout
    detail = runner.invoke(app, ["exposure", "-m", "iron-ore", "-s", "mine"])
    assert "1,603,540,000" in detail.stdout
    csv = runner.invoke(app, ["exposure", "-m", "mercury", "--format", "csv"])
    header, row = csv.stdout.splitlines()[:2]
    assert header.endswith(",note") and "editions disagree" in row
