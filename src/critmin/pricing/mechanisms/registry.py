"""The mechanism registry: one row per mechanism (its kind and the class in its own file).

Adding a mechanism: write one :class:`~critmin.pricing.mechanisms.base.MechanismModel` subclass in a new
file of this package and add its row here; the CLI, API and dashboard list the kinds from this table.
"""

from __future__ import annotations

from critmin.pricing.mechanisms.base import MechanismModel
from critmin.pricing.mechanisms.cfd import ContractForDifference
from critmin.pricing.mechanisms.floor import Floor
from critmin.pricing.mechanisms.floor_share import FloorShare
from critmin.pricing.mechanisms.levy import AdjustableLevy
from critmin.pricing.mechanisms.offtake import Offtake
from critmin.pricing.mechanisms.reserve import Reserve

REGISTRY: dict[str, type[MechanismModel]] = {
    "floor": Floor,
    "floor-share": FloorShare,
    "cfd": ContractForDifference,
    "levy": AdjustableLevy,
    "offtake": Offtake,
    "reserve": Reserve,
}
MECHANISMS: tuple[str, ...] = tuple(REGISTRY)


def get_model(kind: str) -> MechanismModel:
    """The model of mechanism ``kind``; unknown kinds name the registered ones."""
    try:
        return REGISTRY[kind]()
    except KeyError:
        raise ValueError(f"mechanism: {kind!r}; expected one of {', '.join(MECHANISMS)}") from None
