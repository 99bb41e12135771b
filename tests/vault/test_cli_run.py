"""``critmin vault run``: operations from a JSON-lines file, state shown, ledger written only on success."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from critmin.cli import app
from critmin.vault import replay
from critmin.vault.operations import LedgerEntry

runner = CliRunner()

OPS = [
    {
        "op": "open",
        "key": "open",
        "on": "2026-03-01",
        "terms": {"capital_usd": 1e9, "carry_rate_per_year": 0.0365, "default_trigger_multiple": 1.5},
    },
    {"op": "register", "key": "r1", "on": "2026-03-01", "participant": {"id": "gm", "kind": "manufacturer"}},
    {
        "op": "subscribe",
        "key": "s1",
        "on": "2026-03-01",
        "subscription_id": "gm-ga",
        "participant_id": "gm",
        "material": "gallium",
        "quantity_t": 10,
        "preset_price_usd_per_t": 1000,
        "upfront_fee_usd": 5,
    },
    {
        "op": "acquire",
        "key": "a1",
        "on": "2026-03-01",
        "material": "gallium",
        "tonnes": 10,
        "price_usd_per_t": 900,
    },
    {
        "op": "draw",
        "key": "d1",
        "on": "2026-03-02",
        "draw_id": "d1",
        "subscription_id": "gm-ga",
        "tonnes": 4,
        "due": "2026-03-10",
    },
    {"op": "advance", "key": "end", "on": "2026-03-31"},
]


def _write(path: Path, ops: list[dict[str, object]], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in ops) + extra, encoding="utf-8")
    return path


def test_run_shows_state_and_writes_a_replayable_ledger(tmp_path: Path) -> None:
    ops = _write(tmp_path / "ops.jsonl", OPS, extra="\n")  # a blank line is skipped
    out = tmp_path / "ledger.jsonl"
    res = runner.invoke(app, ["vault", "run", str(ops), "--ledger-out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    state = json.loads(res.stdout)
    assert state["as_of"] == "2026-03-31" and state["operations"] == 6
    assert state["stock"] == [{"material": "gallium", "tonnes": 6.0, "cost_usd": 9000.0}]
    (draw,) = state["draws"]
    assert draw["draw"] == "d1" and draw["overdue"] is True and draw["outstanding_t"] == 4.0
    # 10 t x 1000 USD/t x 3.65 % a year = 1 USD a day, 30 days
    assert state["carry_owed_usd"]["gm"] == 30.0
    ledger = [LedgerEntry.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(ledger) == 6
    assert replay(ledger).digest() == state["state_digest"]
    csv = runner.invoke(app, ["vault", "run", str(ops), "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout.splitlines()[0].startswith("draw,participant,material")


def test_bad_line_names_file_line_and_field_and_writes_nothing(tmp_path: Path) -> None:
    bad = [*OPS[:3], {**OPS[3], "tonnes": -1}]
    ops = _write(tmp_path / "ops.jsonl", bad)
    out = tmp_path / "ledger.jsonl"
    res = runner.invoke(app, ["vault", "run", str(ops), "--ledger-out", str(out)])
    assert res.exit_code == 2
    assert f"{ops}, line 4, field acquire.tonnes: Input should be greater than 0 (got -1)" in res.stderr
    assert not out.exists()


def test_broken_rule_and_bad_json_are_reported_with_the_line(tmp_path: Path) -> None:
    over = [*OPS[:4], {**OPS[4], "tonnes": 11}]
    res = runner.invoke(app, ["vault", "run", str(_write(tmp_path / "a.jsonl", over))])
    assert res.exit_code == 2
    assert "line 5: operation 'draw' (key 'd1'), field tonnes: 11" in res.stderr
    res = runner.invoke(app, ["vault", "run", str(_write(tmp_path / "b.jsonl", OPS[:1], extra="{oops\n"))])
    assert res.exit_code == 2 and "line 2: not JSON" in res.stderr
    res = runner.invoke(app, ["vault", "run", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2 and "missing.jsonl" in res.stderr
