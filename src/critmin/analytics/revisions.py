"""Edition revisions: one year's world production as published by two USGS MCS editions.

MCS 2025 gives an estimate for 2024 (column ``PROD_EST_ 2024``); MCS 2026 publishes 2024 again and the atlas
uses it. Where the two world totals differ by more than ``edition_revision_note_share`` (of the earlier
figure) the exposure output carries a note, e.g. mercury 2024: 1,200 t in MCS 2025, 212 t in MCS 2026.
"""

from __future__ import annotations

import pandas as pd

from critmin.atlas.chain import SupplyChain
from critmin.parameters import ParameterSet

EARLIER_EDITION = "usgs-mcs2025"
LATER_EDITION = "usgs-mcs2026"
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


def mcs2025_estimates(atlas: SupplyChain) -> pd.DataFrame:
    """MCS 2025's world totals for 2024 (estimates) of the atlas selection: material, stage, year, tonnes
    (the atlas table ``world_estimates``, built by :func:`critmin.data.usgs.parse_mcs2025_estimates`)."""
    est = atlas.world_estimates
    est = est[(est["edition"] == EARLIER_EDITION) & (est["year"] == EST_YEAR)]
    return est[[*KEYS, "tonnes"]].reset_index(drop=True)


def edition_revisions(atlas: SupplyChain, params: ParameterSet | None = None) -> pd.DataFrame:
    """Every material and stage with a 2024 world total in both editions: both figures, the relative change
    ``later / earlier - 1``, ``flagged`` when ``|change|`` exceeds ``edition_revision_note_share``, a note."""
    share = (params or ParameterSet()).get("edition_revision_note_share")
    wt = atlas.world_totals
    later = wt[(wt["edition"] == LATER_EDITION) & (wt["year"] == EST_YEAR)][[*KEYS, "tonnes"]]
    later = later.assign(tonnes=pd.to_numeric(later["tonnes"], errors="raise").astype(float))
    both = mcs2025_estimates(atlas).merge(
        later, on=KEYS, suffixes=("_earlier", "_later"), validate="one_to_one"
    )
    both = both[(both["tonnes_earlier"] > 0) & both["tonnes_later"].notna()]
    out = pd.DataFrame(
        {
            **{k: both[k] for k in KEYS},
            "earlier_edition": EARLIER_EDITION,
            "earlier_t": both["tonnes_earlier"],
            "later_edition": LATER_EDITION,
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
