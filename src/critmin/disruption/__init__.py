"""Disruption engine: scenario events, the propagation kernel, one-scenario simulation and Monte Carlo."""

from critmin.disruption.events import (
    DemandShock,
    ExportRestriction,
    ProductionOutage,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
)
from critmin.disruption.simulate import ShockResult, simulate

__all__ = [
    "DemandShock",
    "ExportRestriction",
    "ProductionOutage",
    "Scenario",
    "ScenarioError",
    "ShockResult",
    "load_scenario",
    "parse_scenario",
    "simulate",
]
