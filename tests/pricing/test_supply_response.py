"""Project-pipeline supply response: annuity oracle, hand-worked enabling, real pipeline facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from critmin.parameters import ParameterSet
from critmin.pricing.mechanisms import Mechanism, evaluate
from critmin.pricing.supply_response import capital_recovery_factor, projects_enabled
from critmin.runs.floor import breakevens as project_breakevens


def test_capital_recovery_factor() -> None:
    assert capital_recovery_factor(0.10, 20) == pytest.approx(0.1174596248, rel=1e-9)
    assert capital_recovery_factor(0.0, 20) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="project life"):
        capital_recovery_factor(0.1, 0)


def test_hand_worked_projects_enabled() -> None:
    be = pd.DataFrame(
        {
            "project_id": ["p1", "p2"],
            "name": ["a", "b"],
            "capacity_t": [10.0, 20.0],
            "breakeven_usd_per_t": [50.0, 120.0],
        }
    )
    out = projects_enabled(be, realised_usd_per_t=[130.0, 100.0, 40.0], market_usd_per_t=[60.0, 60.0, 30.0])
    # path 1: p2 enabled (130 >= 120 > 60); p1 viable anyway. path 2: none. path 3: nothing reaches 50.
    assert out["projects_added_t_per_year"]["mean"] == pytest.approx(20 / 3)
    p1, p2 = out["projects"]
    assert p2["prob_enabled"] == pytest.approx(1 / 3) and p1["prob_enabled"] == 0.0
    assert p1["prob_viable_without"] == pytest.approx(2 / 3)


def test_real_pipeline_ndpr_breakevens() -> None:
    b = project_breakevens("ndpr-oxide").set_index("project_id")
    # the two NdPr-oxide projects in the pipeline that are not yet producing
    assert set(b.index) == {"arafura-nolans", "energy-fuels-white-mesa-phase2"}
    ef = b.loc["energy-fuels-white-mesa-phase2"]
    # USD 410 m for 6,000 t/yr NdPr oxide at a 10% hurdle over 20 years, no stated operating cost
    assert ef["breakeven_usd_per_t"] == pytest.approx(410e6 * 0.1174596248 / 6000, rel=1e-6)


def test_floor_enables_projects_only_when_they_need_it() -> None:
    paths = np.full((4, 120), 70_000.0)  # a flat 70 USD/kg NdPr market
    mech = Mechanism("floor", 110_000.0, 1000.0)
    base = evaluate(mech, paths, material="ndpr-oxide", projects=project_breakevens("ndpr-oxide"))
    # with no operating cost stated, both projects clear a 10% hurdle at 70 USD/kg already: nothing enabled
    assert base.summary["projects_added_t_per_year"]["mean"] == 0.0
    # metamorphic: with a unit operating cost that puts break-even between 70 and 110 USD/kg, the floor
    # (realised price 110 USD/kg) enables both projects on every path
    params = ParameterSet().with_overrides({("plan_unit_opex_usd_per_t", "default"): 80_000.0})
    costly = project_breakevens("ndpr-oxide", params=params)
    assert (costly["breakeven_usd_per_t"] > 70_000).all() and (costly["breakeven_usd_per_t"] < 110_000).all()
    res = evaluate(mech, paths, material="ndpr-oxide", projects=costly)
    assert res.summary["projects_added_t_per_year"]["p5"] == pytest.approx(4440.0 + 6000.0)
