"""First stage per holder: one holder of share 1 is the pooled model; splitting never helps; budgets bind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from critmin.optimize.stockpile import (
    CVaRSpec,
    Holders,
    StockpileConfig,
    StockpileInputError,
    StockpileInputs,
    build_holder_model,
    evaluate_holdings,
    shortfall_array,
    size_stockpile,
    solve_stockpile,
)

MATS = ["antimony", "gallium", "tungsten"]


def _inputs(seed: int) -> StockpileInputs:
    rng = np.random.default_rng(seed)
    hit = rng.random((30, 3, 1)) < 0.35
    s = lambda v: pd.Series(v, index=MATS)  # noqa: E731
    return StockpileInputs(
        shortfall_t=shortfall_array(rng.exponential(10.0, (30, 3, 4)) * hit, MATS),
        loss_per_tonne_usd=s(rng.uniform(50, 500, 3)),
        price_usd_per_t=s(rng.uniform(5, 50, 3)),
        max_holding_t=s(rng.uniform(20, 80, 3)),
        carry_rate_per_year=s(rng.uniform(0.03, 0.15, 3)),
    )


@pytest.mark.parametrize("cvar", [None, CVaRSpec(alpha=0.9, weight=0.5)])
def test_one_holder_with_full_share_is_the_pooled_model(cvar: CVaRSpec | None) -> None:
    inputs = _inputs(1)
    config = StockpileConfig(budget_usd=900.0, cvar=cvar)
    pooled = size_stockpile(inputs, config)
    one = solve_stockpile(
        build_holder_model(inputs, config, Holders(pd.DataFrame([[1.0] * 3], ["all"], MATS)))
    )
    assert one.solve.ok
    assert one.totals["objective_usd"] == pytest.approx(pooled.totals["objective_usd"], rel=1e-9)
    np.testing.assert_allclose(one.table["tonnes"], pooled.table["tonnes"], atol=1e-6)
    assert one.by_holder is not None and set(one.by_holder["holder"]) <= {"all"}


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_split_with_shares_summing_to_one_and_a_shared_budget_equals_the_pool(seed: int) -> None:
    """Shares fixed per material: the pooled plan split pro rata (x[h,m] = share[h,m] x[m]) is feasible and
    covers exactly what the pool covers, so splitting costs nothing; separate budgets can make it cost."""
    inputs = _inputs(seed)
    config = StockpileConfig(budget_usd=1500.0)
    pooled = size_stockpile(inputs, config)
    share = pd.DataFrame(
        {"antimony": [0.6, 0.4], "gallium": [0.5, 0.5], "tungsten": [0.9, 0.1]}, index=["a", "b"]
    )
    split = solve_stockpile(build_holder_model(inputs, config, Holders(share)))
    assert split.solve.ok
    assert split.totals["objective_usd"] == pytest.approx(pooled.totals["objective_usd"], rel=1e-7)
    # with a budget per holder that binds, the split reserve is worse than the pool
    tight = Holders(share, pd.Series({"a": 0.2 * pooled.totals["cost_usd"], "b": 1e9}))
    capped = solve_stockpile(build_holder_model(inputs, config, tight))
    assert capped.totals["objective_usd"] > pooled.totals["objective_usd"] + 1e-6
    # the LP's releases and the closed-form evaluation of the holder plan agree
    t = split.totals
    assert t["lp_expected_loss_avoided_usd"] == pytest.approx(t["expected_loss_avoided_usd"])
    assert split.by_holder is not None
    by = split.by_holder.pivot_table(index="holder", columns="material", values="tonnes", fill_value=0.0)
    _, again = evaluate_holdings(
        inputs, by.reindex(columns=MATS, fill_value=0.0), config, holders=Holders(share)
    )
    assert again["expected_loss_avoided_usd"] == pytest.approx(t["expected_loss_avoided_usd"])
    # holdings of a holder never exceed what its share of the worst scenario could use
    worst = inputs.shortfall_t.sum("month").max("scenario").to_series()
    for row in split.by_holder.itertuples():
        assert row.tonnes <= share.loc[row.holder, row.material] * worst[row.material] + 1e-6


def test_holder_budgets_bind_and_a_zero_share_holds_nothing() -> None:
    inputs = _inputs(5)
    share = pd.DataFrame(
        {"antimony": [0.5, 0.5], "gallium": [0.5, 0.5], "tungsten": [0.0, 1.0]}, index=["a", "b"]
    )
    budgets = pd.Series({"a": 50.0, "b": 1e9})
    plan = solve_stockpile(
        build_holder_model(inputs, StockpileConfig(budget_usd=1e9), Holders(share, budgets))
    )
    assert plan.solve.ok and plan.by_holder is not None
    spent = plan.by_holder.groupby("holder")["cost_usd"].sum()
    assert spent.get("a", 0.0) <= 50.0 + 1e-6
    assert not ((plan.by_holder["holder"] == "a") & (plan.by_holder["material"] == "tungsten")).any()
    d = plan.as_dict()
    assert {r["holder"] for r in d["by_holder"]} <= {"a", "b"}


def test_bad_holder_shares_are_named() -> None:
    inputs = _inputs(6)
    config = StockpileConfig(budget_usd=10.0)
    too_much = pd.DataFrame(
        {"antimony": [0.7, 0.7], "gallium": [0.1, 0.1], "tungsten": [0, 0]}, index=["a", "b"]
    )
    with pytest.raises(
        StockpileInputError, match=r"holders.share\[antimony\] sums to 1.4; expected at most 1"
    ):
        build_holder_model(inputs, config, Holders(too_much))
    missing = pd.DataFrame({"antimony": [1.0]}, index=["a"])
    with pytest.raises(StockpileInputError, match=r"no value for materials \['gallium', 'tungsten'\]"):
        build_holder_model(inputs, config, Holders(missing))
    unknown = pd.DataFrame(
        {"antimony": [1.0], "gallium": [1.0], "tungsten": [1.0], "lead": [1.0]}, index=["a"]
    )
    with pytest.raises(StockpileInputError, match=r"unknown materials \['lead'\]"):
        build_holder_model(inputs, config, Holders(unknown))
