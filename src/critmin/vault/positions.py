"""Participants' positions from the operations ledger's state: commitments, fees, draw rights, exposure.

One row per subscription: committed and open tonnes, preset price, fees (upfront paid; carry owed by the
participant, repeated on each of its rows), draws outstanding, draw rights left (open - outstanding),
repurchase exposure (open tonnes at the preset price) and, where the material's release trigger has an
observed reference price, the exposure at that price and the gap (what the commitment is worth to the
participant). A participant sees only its own rows: pass ``participant_id``.
"""

from __future__ import annotations

import pandas as pd

from critmin.vault.state import ReserveState

POSITION_COLUMNS = [
    "participant_id",
    "subscription_id",
    "material",
    "committed_t",
    "open_t",
    "preset_price_usd_per_t",
    "upfront_fee_usd",
    "carry_owed_usd",
    "outstanding_draws_t",
    "draw_rights_t",
    "repurchase_exposure_usd",
    "reference_price_usd_per_t",
    "exposure_at_reference_usd",
    "gap_to_reference_usd",
]


def positions(state: ReserveState, participant_id: str | None = None) -> pd.DataFrame:
    """Positions of every subscriber, or of ``participant_id`` only (see the module docstring)."""
    rows = []
    for sub in sorted(state.subscriptions.values(), key=lambda s: (s.participant_id, s.id)):
        if participant_id is not None and sub.participant_id != participant_id:
            continue
        outstanding = state.outstanding_draws_t(sub.id)
        trig = state.triggers.get(sub.material)
        ref = trig.reference_usd_per_t if trig is not None else None
        exposure = sub.open_t * sub.preset_price_usd_per_t
        at_ref = None if ref is None else sub.open_t * ref
        rows.append(
            {
                "participant_id": sub.participant_id,
                "subscription_id": sub.id,
                "material": sub.material,
                "committed_t": sub.quantity_t,
                "open_t": sub.open_t,
                "preset_price_usd_per_t": sub.preset_price_usd_per_t,
                "upfront_fee_usd": sub.upfront_fee_usd,
                "carry_owed_usd": state.carry_owed_usd.get(sub.participant_id, 0.0),
                "outstanding_draws_t": outstanding,
                "draw_rights_t": max(0.0, sub.open_t - outstanding),
                "repurchase_exposure_usd": exposure,
                "reference_price_usd_per_t": ref,
                "exposure_at_reference_usd": at_ref,
                "gap_to_reference_usd": None if at_ref is None else at_ref - exposure,
            }
        )
    return pd.DataFrame(rows, columns=POSITION_COLUMNS)
