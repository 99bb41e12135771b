"""Edition revisions: one year's world production as published by two USGS MCS editions.

MCS 2025 gives an estimate for 2024 (column ``PROD_EST_ 2024``); MCS 2026 publishes 2024 again and the atlas
uses it. Where the two world totals differ by more than ``edition_revision_note_share`` (of the earlier
figure) the exposure output carries a note, e.g. mercury 2024: 1,200 t in MCS 2025, 212 t in MCS 2026.
"""

from __future__ import annotations

from importlib import resources
from io import StringIO

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.atlas.usgs import ED_2025, ED_2026, MCS2025_FILE, tonnes_factor
from critmin.atlas.usgs_selection import SELECTION
from critmin.atlas.valuetext import parse_value_text
from critmin.parameters import ParameterSet

EST_COLUMN = "PROD_EST_ 2024"
EST_YEAR = 2024
KEYS = ["material", "stage", "year"]
REVISION_COLUMNS = [
    *KEYS,
    "earlier_edition",
    "earlier_t",
    "later_edition",
    "later_t",
    "change",
    "flagged",
    "note",
]


def mcs2025_estimates() -> pd.DataFrame:
    """MCS 2025's world totals for 2024 (estimates) of the atlas selection: material, stage, year, tonnes."""
    text = resources.files("critmin.data").joinpath("raw", MCS2025_FILE).read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    world = df[df["COUNTRY"].str.strip().str.startswith("World total")]
    rows = []
    for sel in SELECTION:
        if sel.mcs2025_type is None:
            continue
        hit = world[
            (world["COMMODITY"].str.strip() == sel.mcs2025_commodity)
            & (world["TYPE"].str.strip() == sel.mcs2025_type)
        ]
        for i, r in hit.iterrows():
            pv = parse_value_text(r[EST_COLUMN])
            if pv.is_number:
                where = f"{MCS2025_FILE} row {int(str(i)) + 2}"
                tonnes = pv.value * tonnes_factor(r["UNIT_MEAS"], where)
                rows.append(
                    {"material": sel.material, "stage": sel.stage, "year": EST_YEAR, "tonnes": tonnes}
                )
    return pd.DataFrame(rows, columns=[*KEYS, "tonnes"])


def edition_revisions(atlas: SupplyChain, params: ParameterSet | None = None) -> pd.DataFrame:
    """Every material and stage with a 2024 world total in both editions: both figures, the relative change
    ``later / earlier - 1``, ``flagged`` when ``|change|`` exceeds ``edition_revision_note_share``, a note."""
    share = (params or ParameterSet()).get("edition_revision_note_share")
    wt = atlas.world_totals
    later = wt[(wt["edition"] == ED_2026) & (wt["year"] == EST_YEAR)][[*KEYS, "tonnes"]]
    later = later.assign(tonnes=pd.to_numeric(later["tonnes"], errors="raise").astype(float))
    both = mcs2025_estimates().merge(later, on=KEYS, suffixes=("_earlier", "_later"), validate="one_to_one")
    both = both[(both["tonnes_earlier"] > 0) & both["tonnes_later"].notna()]
    out = pd.DataFrame(
        {
            **{k: both[k] for k in KEYS},
            "earlier_edition": ED_2025,
            "earlier_t": both["tonnes_earlier"],
            "later_edition": ED_2026,
            "later_t": both["tonnes_later"],
            "change": both["tonnes_later"] / both["tonnes_earlier"] - 1.0,
        }
    )
    out["flagged"] = out["change"].abs() > share
    out["note"] = [
        f"editions disagree: {y} world total {e:,.0f} t in MCS 2025 (estimate), "
        f"{la:,.0f} t in MCS 2026 ({c:+.0%})"
        if f
        else ""
        for y, e, la, c, f in zip(
            out["year"], out["earlier_t"], out["later_t"], out["change"], out["flagged"], strict=True
        )
    ]
    return out[REVISION_COLUMNS].sort_values(KEYS).reset_index(drop=True)


def with_revision_notes(
    table: pd.DataFrame, atlas: SupplyChain, params: ParameterSet | None = None
) -> pd.DataFrame:
    """``table`` (columns material, stage, year, source) with a ``note`` column: the revision note of the
    row's year where the row's figures come from the later edition and the editions disagree, else ''."""
    rev = edition_revisions(atlas, params)
    flagged = rev.loc[rev["flagged"], [*KEYS, "later_edition", "note"]]
    out = table.merge(flagged, on=KEYS, how="left", validate="many_to_one")
    same = [
        isinstance(s, str) and isinstance(e, str) and e in s
        for s, e in zip(out["source"], out["later_edition"], strict=True)
    ]
    out["note"] = [n if keep else "" for n, keep in zip(out["note"], same, strict=True)]
    out.index = table.index
    return out.drop(columns="later_edition")
