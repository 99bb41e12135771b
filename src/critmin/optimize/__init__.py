"""Optimisation models: HiGHS helpers (:mod:`~critmin.optimize.common`), the stockpile two-stage LP
(:mod:`~critmin.optimize.stockpile`) and the capacity-expansion MILP (:mod:`~critmin.optimize.expansion`).

Each model is built apart from solved: ``build_*`` returns a linopy model, :func:`common.solve` solves it
with HiGHS (after an optional hook) and returns a :class:`common.SolveResult`.
"""

from critmin.optimize.common import SolveResult, explain_infeasibility, solve

__all__ = ["SolveResult", "explain_infeasibility", "solve"]
