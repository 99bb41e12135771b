"""``critmin vault finance --ops`` and ``critmin vault positions`` on an operations file; bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from critmin.cli import app

runner = CliRunner()
OPS = [
    {
        "op": "open",
        "key": "o",
        "on": "2026-03-01",
        "terms": {"capital_usd": 2e9, "carry_rate_per_year": 0.062, "default_trigger_multiple": 1.5},
    },
    {"op": "register", "key": "r1", "on": "2026-03-01", "participant": {"id": "gm", "kind": "manufacturer"}},
    {"op": "register", "key": "r2", "on": "2026-03-01", "participant": {"id": "ge", "kind": "manufacturer"}},
    {
        "op": "acquire",
        "key": "a1",
        "on": "2026-03-02",
        "material": "gallium",
        "tonnes": 400,
        "price_usd_per_t": 580000,
    },
    {
        "op": "acquire",
        "key": "a2",
        "on": "2026-03-02",
        "material": "cobalt",
        "tonnes": 20000,
        "price_usd_per_t": 33000,
    },
    {
        "op": "subscribe",
        "key": "s1",
        "on": "2026-03-03",
        "subscription_id": "s1",
        "participant_id": "gm",
        "material": "gallium",
        "quantity_t": 300,
        "preset_price_usd_per_t": 600000,
        "upfront_fee_usd": 1.8e6,
    },
    {
        "op": "subscribe",
        "key": "s2",
        "on": "2026-03-03",
        "subscription_id": "s2",
        "participant_id": "ge",
        "material": "cobalt",
        "quantity_t": 15000,
        "preset_price_usd_per_t": 33000,
        "upfront_fee_usd": 5e6,
    },
]


def _ops(tmp_path: Path) -> Path:
    path = tmp_path / "ops.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in OPS), encoding="utf-8")
    return path


def test_finance_of_a_ledger_reports_bands_and_the_break_even_fee(tmp_path: Path) -> None:
    res = runner.invoke(app, ["vault", "finance", "--ops", str(_ops(tmp_path)), "-n", "300", "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["book"]["materials"] == ["cobalt", "gallium"]
    assert out["book"]["purchase_usd"] == [20000 * 33000, 400 * 580000]
    assert out["book"]["committed_usd"] == [15000 * 33000, 300 * 600000]  # preset prices, within the cost
    assert len(out["by_year"]) == out["terms"]["term_years"] + 1
    assert 0.0 <= out["p_debt_service_missed"] <= 1.0
    assert "break-even fee" in out["headline"]
    # the loan is drawn only beyond the equity
    spent = sum(out["book"]["purchase_usd"])
    assert out["equity_called_usd"] + out["loan_drawn_usd"] == spent
    table = runner.invoke(app, ["vault", "finance", "--ops", str(_ops(tmp_path)), "-n", "200"])
    assert table.exit_code == 0 and "Debt service is missed in" in table.stdout


def test_positions_of_one_participant(tmp_path: Path) -> None:
    res = runner.invoke(app, ["vault", "positions", str(_ops(tmp_path)), "--participant", "gm", "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["participant_id"] for r in rows] == ["gm"]
    assert rows[0]["repurchase_exposure_usd"] == 300 * 600000
    bad = runner.invoke(app, ["vault", "positions", str(_ops(tmp_path)), "--participant", "nobody"])
    assert bad.exit_code == 2 and "no subscriptions of that participant" in bad.stderr


def test_a_broken_operation_names_its_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(OPS[0]) + "\n" + json.dumps({**OPS[3], "tonnes": -1}) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["vault", "finance", "--ops", str(path), "-n", "10"])
    assert res.exit_code == 2
    assert "operations[1], field acquire.tonnes" in res.stderr
    path.write_text("{not json\n", encoding="utf-8")
    res = runner.invoke(app, ["vault", "finance", "--ops", str(path)])
    assert res.exit_code == 2 and "line 1: not JSON" in res.stderr
