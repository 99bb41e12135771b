"""The plan question: which projects to start when so the alliance's share holds from a year, at least
discounted cost (CLI ``critmin plan``, the ``plan`` job, the plan page). The request is
:class:`critmin.planning.plan.PlanRequest` (its bounds and defaults: group from ``critmin.options``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from critmin.parameters import ParameterSet
from critmin.planning.plan import PlanRequest, PlanResult, run_plan
from critmin.runs.editions import editions_read, production_rows, title

__all__ = ["PlanRequest", "PlanResult", "run"]


def run(
    request: PlanRequest,
    *,
    atlas: Any = None,
    params: ParameterSet | None = None,
    pipeline: Any = None,
    baseline: Any = None,
) -> PlanResult:
    """Solve the expansion plan (MILP on HiGHS); ``pipeline``/``baseline`` replace the bundled ones."""
    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    if request.group not in atlas.groups:
        raise ValueError(f"unknown group {request.group!r}; known groups: {sorted(atlas.groups)}")
    res = run_plan(
        request, pipeline=pipeline, baseline=baseline, alliance=atlas.groups[request.group], params=params
    )
    if baseline is None or str(baseline.source).startswith("critmin atlas"):  # atlas rows, IEA demand
        rows = production_rows(atlas, [(request.material, request.stage)])
        editions = editions_read(atlas, production=rows) | {"iea-cm-2025": title("iea-cm-2025")}
    else:
        editions = {"baseline": "user baseline file"}
    return dataclasses.replace(res, metadata=res.metadata.model_copy(update={"data_editions": editions}))
