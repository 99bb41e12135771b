"""The reserve's state: participants, subscriptions, inventory, draws, triggers, cash (frozen pydantic).

A :class:`ReserveState` is never mutated: every operation in :mod:`critmin.vault.operations` returns a new
one. Amounts are USD, quantities tonnes, prices USD per tonne, dates calendar days.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TOL = 1e-9


class Frozen(BaseModel):
    """Base for immutable, strictly validated records (unknown fields are errors)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ReserveTerms(Frozen):
    """Terms fixed when the reserve opens (read from ``vault.csv`` by :func:`critmin.vault.default_terms`)."""

    capital_usd: float = Field(ge=0, description="loan plus private capital available for acquisitions")
    carry_rate_per_year: float = Field(
        ge=0, description="carrying cost charged to subscribers, share of subscribed value per year"
    )
    default_trigger_multiple: float = Field(gt=1, description="reference price / baseline that opens release")


class Participant(Frozen):
    id: str = Field(min_length=1)
    kind: Literal["manufacturer", "trader"]
    name: str = ""


class Subscription(Frozen):
    """A manufacturer's commitment: ``quantity_t`` held for it at ``preset_price``; it buys it back later."""

    id: str = Field(min_length=1)
    participant_id: str
    material: str
    quantity_t: float = Field(gt=0)
    preset_price_usd_per_t: float = Field(gt=0)
    upfront_fee_usd: float = Field(ge=0)
    bought_back_t: float = Field(default=0.0, ge=0)
    carry_accrued_to: date

    @property
    def open_t(self) -> float:
        """Subscribed tonnes not yet bought back."""
        return max(0.0, self.quantity_t - self.bought_back_t)


class Draw(Frozen):
    """Stock lent to a subscriber (a voluntary draw or an emergency allocation), due back by ``due``."""

    id: str = Field(min_length=1)
    subscription_id: str
    participant_id: str
    material: str
    tonnes: float = Field(gt=0)
    drawn_on: date
    due: date
    replenished_t: float = Field(default=0.0, ge=0)
    emergency: bool = False
    overdue: bool = False

    @property
    def outstanding_t(self) -> float:
        return max(0.0, self.tonnes - self.replenished_t)


class ReleaseTrigger(Frozen):
    """Release opens when a disruption is declared or the reference price exceeds ``multiple`` x baseline."""

    material: str
    baseline_usd_per_t: float = Field(gt=0)
    multiple: float = Field(gt=1)
    reference_usd_per_t: float | None = None
    declared_disruption: bool = False

    @property
    def active(self) -> bool:
        price_high = (
            self.reference_usd_per_t is not None
            and self.reference_usd_per_t > self.multiple * self.baseline_usd_per_t
        )
        return self.declared_disruption or price_high


class ReserveState(Frozen):
    """Everything the reserve knows at ``as_of``. ``opened`` is False until the ``open`` operation."""

    opened: bool = False
    as_of: date = date(1970, 1, 1)
    terms: ReserveTerms | None = None
    cash_usd: float = 0.0
    fees_collected_usd: float = 0.0
    participants: dict[str, Participant] = Field(default_factory=dict)
    subscriptions: dict[str, Subscription] = Field(default_factory=dict)
    inventory_t: dict[str, float] = Field(default_factory=dict)
    cost_of_stock_usd: dict[str, float] = Field(default_factory=dict)
    draws: dict[str, Draw] = Field(default_factory=dict)
    triggers: dict[str, ReleaseTrigger] = Field(default_factory=dict)
    carry_owed_usd: dict[str, float] = Field(default_factory=dict)
    applied: dict[str, str] = Field(default_factory=dict, description="idempotency key -> operation digest")
    sequence: int = 0

    def stock(self, material: str) -> float:
        return self.inventory_t.get(material, 0.0)

    def outstanding_draws_t(self, subscription_id: str) -> float:
        return sum(d.outstanding_t for d in self.draws.values() if d.subscription_id == subscription_id)

    def overdue_draws(self) -> list[Draw]:
        """Draws flagged because they were not replenished by their due date."""
        return [d for d in self.draws.values() if d.overdue]

    def release_active(self, material: str) -> bool:
        trig = self.triggers.get(material)
        return trig is not None and trig.active

    def digest(self) -> str:
        """Hash of the full state (used by the ledger to check a replay)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
