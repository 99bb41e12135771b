"""The CLI's Monte Carlo defaults come from the options tree: an environment override reaches them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
from critmin.cli import app
app(["risk", "--horizon", "3", "--param-draws", "0", "--format", "json"])
"""


def test_risk_scenario_count_default_comes_from_the_options_tree() -> None:
    env = {**os.environ, "CRITMIN_RISK__SCENARIOS__DEFAULT": "120"}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["scenarios"] == 120  # not the CLI's old literal 10,000
    assert doc["horizon_months"] == 3
    assert doc["seed"] == 0
    assert doc["rows"], "every priced material is ranked"
