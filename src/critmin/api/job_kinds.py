"""Job kinds wired to the library functions: each validates its parameters and calls the library."""

from __future__ import annotations

from critmin.api.jobs import JobKind


def library_job_kinds() -> dict[str, JobKind]:
    """Every job kind whose library function is available."""
    kinds: list[JobKind] = []
    return {k.name: k for k in kinds}
