"""Operating rules of a Vault-style strategic reserve: pure state transitions and a replayable ledger.

``apply(state, op) -> (new_state, entry)``; ``replay(ledger)`` rebuilds the state. Terms come from
``vault.csv`` through :func:`default_terms`. See ``docs/methods/vault-operations.md``.
"""

from __future__ import annotations

from critmin.parameters import ParameterSet
from critmin.vault.ledger import LedgerMismatch, replay, run
from critmin.vault.operations import (
    OPERATION_ADAPTER,
    Acquire,
    AdvanceClock,
    BuyBack,
    DeclareDisruption,
    DrawStock,
    EmergencyAllocate,
    IdempotencyConflict,
    LedgerEntry,
    ObservePrice,
    OpenReserve,
    Operation,
    RegisterParticipant,
    Replenish,
    SettleCarry,
    SetTrigger,
    Subscribe,
    VaultRuleError,
    apply,
)
from critmin.vault.state import Draw, Participant, ReleaseTrigger, ReserveState, ReserveTerms, Subscription


def default_terms(params: ParameterSet | None = None) -> ReserveTerms:
    """Reserve terms from the parameters: capital = loan + private capital; carry = financing + storage."""
    p = params or ParameterSet()
    loan, private = p.get("vault_exim_loan_usd"), p.get("vault_private_capital_usd")
    cost_of_funds = loan * p.get("vault_exim_interest_rate") + private * p.get("vault_private_capital_return")
    financing = cost_of_funds / (loan + private)
    return ReserveTerms(
        capital_usd=loan + private,
        carry_rate_per_year=financing + p.get("vault_storage_cost_rate"),
        default_trigger_multiple=p.get("vault_release_trigger_multiple"),
    )


__all__ = [
    "OPERATION_ADAPTER",
    "Acquire",
    "AdvanceClock",
    "BuyBack",
    "DeclareDisruption",
    "Draw",
    "DrawStock",
    "EmergencyAllocate",
    "IdempotencyConflict",
    "LedgerEntry",
    "LedgerMismatch",
    "ObservePrice",
    "OpenReserve",
    "Operation",
    "Participant",
    "RegisterParticipant",
    "ReleaseTrigger",
    "Replenish",
    "ReserveState",
    "ReserveTerms",
    "SetTrigger",
    "SettleCarry",
    "Subscribe",
    "Subscription",
    "VaultRuleError",
    "apply",
    "default_terms",
    "replay",
    "run",
]
