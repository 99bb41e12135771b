"""Price-support mechanisms by registry (docs/methods/mechanisms.md).

Each mechanism is one :class:`MechanismModel` subclass in its own file of this package plus a row in
:data:`REGISTRY`; :func:`evaluate` prices any of them on the two-zone price paths.
"""

from critmin.pricing.mechanisms.base import MONTHS_PER_YEAR, Context, Flows, MechanismModel
from critmin.pricing.mechanisms.cfd import cfd_payment
from critmin.pricing.mechanisms.evaluate import (
    MECH_PARAMETERS,
    MechanismResult,
    annual,
    build_context,
    discount_factors,
    distribution,
    evaluate,
    evaluate_reference,
    mechanism_flows,
    revenue_cv,
    supply_elasticity,
    worked_example,
)
from critmin.pricing.mechanisms.floor import floor_payment
from critmin.pricing.mechanisms.floor_share import floor_share_payment
from critmin.pricing.mechanisms.levy import adjustable_levy, import_response, levy_per_t
from critmin.pricing.mechanisms.offtake import offtake_payment
from critmin.pricing.mechanisms.registry import MECHANISMS, REGISTRY, get_model
from critmin.pricing.mechanisms.reserve import reserve_purchase_t
from critmin.pricing.mechanisms.spec import STAGES, Mechanism

__all__ = [
    "MECHANISMS",
    "MECH_PARAMETERS",
    "MONTHS_PER_YEAR",
    "REGISTRY",
    "STAGES",
    "Context",
    "Flows",
    "Mechanism",
    "MechanismModel",
    "MechanismResult",
    "adjustable_levy",
    "annual",
    "build_context",
    "cfd_payment",
    "discount_factors",
    "distribution",
    "evaluate",
    "evaluate_reference",
    "floor_payment",
    "floor_share_payment",
    "get_model",
    "import_response",
    "levy_per_t",
    "mechanism_flows",
    "offtake_payment",
    "reserve_purchase_t",
    "revenue_cv",
    "supply_elasticity",
    "worked_example",
]
