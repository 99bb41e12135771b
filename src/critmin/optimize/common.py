"""Solve a built optimisation model with HiGHS and report what happened, never raising on infeasibility.

Models are built apart from solved: a builder returns a ``linopy.Model``; :func:`solve` runs an optional
``hook(model)`` (to add user constraints between build and solve), calls HiGHS and returns a
:class:`SolveResult`. When HiGHS proves the model infeasible, the result carries an explanation: the
constraints of an irreducible infeasible subsystem (IIS) computed by HiGHS, printed with their terms.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextlib import nullcontext as _nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # linopy is heavy; imported inside functions at run time
    import linopy

Hook = Callable[["linopy.Model"], None]

#: termination conditions for which the model has no usable primal solution
_NO_SOLUTION = {"infeasible", "infeasible_or_unbounded", "unbounded", "error", "unknown"}


@dataclass(frozen=True)
class SolveResult:
    """Outcome of one solve.

    ``status`` is linopy's status (``ok``, ``warning``, ``error``), ``condition`` its termination
    condition (``optimal``, ``infeasible``, ``unbounded``, ``time_limit`` ...). ``objective`` is ``None``
    when there is no solution. ``explanation`` is empty for an optimal solve; otherwise it says why there
    is no (optimal) solution and, for an infeasible model, lists the conflicting constraints.
    """

    status: str
    condition: str
    objective: float | None
    explanation: str
    build_seconds: float = 0.0
    solve_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when an optimal solution is available."""
        return self.status == "ok" and self.condition == "optimal"

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output and result metadata."""
        return {
            "status": self.status,
            "condition": self.condition,
            "objective": self.objective,
            "explanation": self.explanation,
            "build_seconds": self.build_seconds,
            "solve_seconds": self.solve_seconds,
        }


@contextmanager
def quiet_native_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null for the block (HiGHS prints its banner from C++ on creation).

    Keeps ``--format json`` output clean. Process-wide while active; Python-level ``sys.stdout``
    replacements (pytest, Typer's CliRunner) are not affected.
    """
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        libc = ctypes.CDLL(None)  # the C runtime, to flush C-level stdout buffers
    except (OSError, TypeError):  # platforms without a loadable default C library: no redirection
        yield
        return
    if sys.__stdout__ is not None:
        sys.__stdout__.flush()
    libc.fflush(None)
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def explain_infeasibility(model: linopy.Model, max_constraints: int = 20) -> str:
    """Text naming the constraints of an irreducible infeasible subsystem found by HiGHS.

    ``model`` must just have been solved with HiGHS and found infeasible. If HiGHS cannot compute an
    IIS the text says so instead of raising.
    """
    try:
        labels = model.compute_infeasibilities()
    except (RuntimeError, ValueError, NotImplementedError) as exc:
        return f"the model is infeasible; HiGHS could not isolate the conflicting constraints ({exc})"
    if not labels:
        return "the model is infeasible; the conflict lies in variable bounds only (no constraint in the IIS)"
    shown = labels[:max_constraints]
    body = model.constraints.format_labels(shown, display_max_terms=8)
    more = f"\n... and {len(labels) - len(shown)} more" if len(labels) > len(shown) else ""
    return (
        f"the model is infeasible; these {len(labels)} constraints cannot hold together "
        f"(an irreducible infeasible subsystem computed by HiGHS):\n{body}{more}"
    )


def solve(
    model: linopy.Model,
    hook: Hook | None = None,
    *,
    time_limit: float | None = None,
    mip_rel_gap: float | None = None,
    threads: int | None = None,
    output: bool = False,
    build_seconds: float = 0.0,
) -> SolveResult:
    """Run ``hook(model)`` if given, then solve ``model`` with HiGHS and return a :class:`SolveResult`.

    The model keeps its solution (``model.solution``, variables' ``.solution``) when one exists. Never
    raises for infeasible, unbounded or time-limited models: read ``result.condition`` and
    ``result.explanation``. ``build_seconds`` is passed through for reporting.
    """
    if hook is not None:
        hook(model)
    options: dict[str, Any] = {"output_flag": output}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    if mip_rel_gap is not None:
        options["mip_rel_gap"] = float(mip_rel_gap)
    if threads is not None:
        options["threads"] = int(threads)
    start = time.perf_counter()
    with quiet_native_stdout() if not output else _nullcontext():
        status, condition = model.solve(solver_name="highs", io_api="direct", progress=False, **options)
        seconds = time.perf_counter() - start
        status, condition = str(status), str(condition)
        infeasible = condition in {"infeasible", "infeasible_or_unbounded"}
        iis_text = explain_infeasibility(model) if infeasible else ""
    objective: float | None = None
    explanation = ""
    if infeasible:
        explanation = iis_text
    elif condition == "unbounded":
        explanation = "the objective is unbounded: some variable can grow without limit and improve it"
    elif condition not in _NO_SOLUTION and status in {"ok", "warning"}:
        value = model.objective.value
        objective = None if value is None else float(value)
        if condition != "optimal":
            explanation = f"HiGHS stopped with condition {condition!r}; the solution may not be optimal"
    else:
        explanation = f"HiGHS returned status {status!r} with condition {condition!r}; no solution"
    return SolveResult(status, condition, objective, explanation, build_seconds, seconds)
