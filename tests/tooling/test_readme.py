"""The README's recovery path: a new token for a demo account after the first-start tokens are lost."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from critmin.api.seed import seed_demo
from critmin.cli import app
from critmin.store import Store
from critmin.store.members import authenticate

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _readme_token_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^\.venv/bin/critmin (token create .*?)(?:\s+#.*)?$", text, re.M)
    return [shlex.split(line) for line in lines]


def test_readme_token_commands_issue_working_tokens_for_demo_accounts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'critmin.sqlite3'}"
    store = Store(url)
    store.upgrade()
    first = seed_demo(store)  # printed once at first start, then lost
    commands = _readme_token_commands()
    assert len(commands) == 3
    for args in commands:
        res = runner.invoke(app, [*args, "--database-url", url])
        assert res.exit_code == 0, (args, res.output)
        token = res.stdout.strip()
        assert token not in first.values()
        with store.read() as s:
            who = authenticate(s, token)
        assert who is not None and who.name == args[2]
    store.dispose()


def test_readme_says_postgresql_is_optional_and_how_to_use_it() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "PostgreSQL is optional" in text
    assert "export CRITMIN_DATABASE_URL=postgresql+psycopg://" in text
