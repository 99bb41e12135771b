"""``critmin data build --raw DIR``: a new USGS release is picked up without code edits, changes reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from critmin.atlas.loader import read_table
from critmin.cli import app
from critmin.data.build import raw_root


def _next_release(tmp: Path) -> Path:
    """A fake MCS 2027: MCS 2026 shifted one year on, with China's 2026 gallium output halved."""
    src = Path(str(raw_root())) / "usgs_mcs2026" / "MCS2026_Commodities_Data.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    numeric = df["Year"].str.fullmatch(r"\d{4}")
    df.loc[numeric, "Year"] = (df.loc[numeric, "Year"].astype(int) + 1).astype(str)
    ga = (df["MCS chapter"] == "GALLIUM") & (df["Country"] == "China") & (df["Year"] == "2026")
    ga &= df["Statistics_detail"] == "Primary production"
    assert ga.sum() == 1
    df.loc[ga, "Value"] = str(int(float(df.loc[ga, "Value"].iloc[0].replace(",", "")) / 2))
    folder = tmp / "new" / "usgs_mcs2027"
    folder.mkdir(parents=True)
    df.to_csv(folder / "MCS2027_Commodities_Data.csv", index=False)
    return tmp / "new"


def test_a_new_mcs_release_is_built_and_the_changes_are_reported(tmp_path: Path) -> None:
    raw = _next_release(tmp_path)
    out = tmp_path / "built"
    res = CliRunner().invoke(app, ["data", "build", "--raw", str(raw), "--out", str(out), "-f", "json"])
    assert res.exit_code == 0, res.output
    prod = read_table((out / "production.csv").read_text(encoding="utf-8"), "production")
    ga = prod[(prod["material"] == "gallium") & (prod["year"] == 2026) & prod["primary"]]
    assert set(ga["edition"]) == {"usgs-mcs2027"}
    # 2025 now comes from the newer release; MCS 2026's 2025 rows are kept as a revision
    y25 = prod[(prod["material"] == "gallium") & (prod["year"] == 2025)]
    assert set(y25.loc[y25["primary"], "edition"]) == {"usgs-mcs2027"} and "usgs-mcs2026" in set(
        y25["edition"]
    )
    # the rare-earth elements follow the new year, the last deposit-mix period carried and said so
    dy = prod[(prod["material"] == "dysprosium") & (prod["year"] == 2026) & (prod["stage"] == "mine")]
    assert len(dy) and dy["value_text"].str.contains("CHN 2024-2025 carried to 2026").any()
    text = res.stdout
    assert '"table": "production"' in text and '"added"' in text
    # halving China's gallium moves its 2026 share (a new year: from 0) and the report names it
    assert '"material": "gallium"' in text and '"iso3": "CHN"' in text
    prices = read_table((out / "prices.csv").read_text(encoding="utf-8"), "prices")
    assert "usgs-mcs2027" in set(prices["source"]) and prices["year"].max() == 2026


def test_a_missing_raw_folder_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["data", "build", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "not a folder" in res.output
    assert not list(tmp_path.glob("*.csv"))
