"""Run-time selection on the atlas ``trade`` table (built by :mod:`critmin.data.trade` from CEPII BACI).

A shared HS6 code (one code covering several materials, e.g. 811292 for Ga, Ge, Hf, In, Nb, Re and V) has
its material slugs joined by :data:`SHARED_SEPARATOR` in ``material``: its value is never attributed to one
of them.
"""

from __future__ import annotations

import pandas as pd

SHARED_SEPARATOR = "|"


def trade_of(
    trade: pd.DataFrame, material: str, stage: str | None = None, shared: bool = False
) -> pd.DataFrame:
    """Rows of ``trade`` for one material (and stage); ``shared=True`` also keeps shared codes covering it."""
    if shared:
        mask = trade["material"].str.split(SHARED_SEPARATOR, regex=False).map(lambda s: material in s)
    else:
        mask = trade["material"] == material
    if stage is not None:
        mask = mask & (trade["stage"] == stage)
    return trade[mask.to_numpy(dtype=bool)]
