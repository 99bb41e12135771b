"""The ledger: the ordered entries returned by :func:`~critmin.vault.operations.apply`, and its replay."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from critmin.vault.operations import LedgerEntry, Operation, VaultRuleError, apply
from critmin.vault.state import ReserveState


class LedgerMismatch(VaultRuleError):
    """Replaying a ledger did not reproduce the state digest it recorded."""


def run(
    ops: Iterable[Operation], state: ReserveState | None = None
) -> tuple[ReserveState, list[LedgerEntry]]:
    """Apply operations in order from ``state`` (default: an unopened reserve); stop at the first error."""
    state = state or ReserveState()
    ledger: list[LedgerEntry] = []
    for op in ops:
        state, entry = apply(state, op)
        ledger.append(entry)
    return state, ledger


def replay(ledger: Sequence[LedgerEntry], check: bool = True) -> ReserveState:
    """Rebuild the state from a ledger (from an unopened reserve); with ``check`` every digest must match."""
    state = ReserveState()
    for entry in ledger:
        state, again = apply(state, entry.operation)
        if check and again.state_digest != entry.state_digest:
            raise LedgerMismatch(
                f"ledger entry {entry.sequence} (key {entry.key!r}): replayed state digest "
                f"{again.state_digest} differs from the recorded {entry.state_digest}"
            )
    return state
