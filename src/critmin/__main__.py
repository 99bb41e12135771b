"""``python -m critmin``: the command line (what ``critmin serve`` uses to start its worker process)."""

from critmin.cli import app

app(prog_name="critmin")
