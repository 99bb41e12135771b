"""The stake question: what a member risks and gains by joining (CLI ``critmin price stake``, API, dashboard).

:func:`run` builds China's retaliation against the joining group (an export restriction on the group of the
materials China refines and the members import), runs it through the disruption engine and reports every
member's stake side by side (:mod:`critmin.pricing.stake_report`), with the asked member's detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from critmin.options import options
from critmin.parameters import ParameterSet
from critmin.pricing.stake_report import StakeReport, stake_report
from critmin.provenance import RunMetadata
from critmin.serialize import plain


class StakeRequest(BaseModel):
    """One member's stake in joining ``group`` (the secretariat view: ``member`` None)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    member: str | None = Field(default=None, description="ISO3 of the member; it joins the group if outside")
    group: str = Field(default_factory=lambda: options().alliance_group, description="joining group")
    levy_rate: float = Field(default=0.0, ge=0, le=5, description="ad-valorem levy on imports from China")
    year: int | None = Field(default=None, description="BACI year (default: latest)")
    horizon_months: int = Field(default=24, ge=1, le=240)

    @field_validator("member")
    @classmethod
    def _iso3(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().upper()
        if len(v) != 3 or not v.isalpha():
            raise ValueError(f"member {v!r}; expected an ISO3 code such as ARG")
        return v


@dataclass(frozen=True)
class StakeResult:
    """The report for the whole group and the asked member's detail."""

    request: StakeRequest
    report: StakeReport
    member: dict[str, Any] | None
    metadata: RunMetadata

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return plain(
            {
                "group": self.request.group,
                "scenario": self.report.scenario,
                "year": self.report.year,
                "levy_rate": self.request.levy_rate,
                "member": self.member,
                "members": self.report.members.to_dict(orient="records"),
                "levy_incidence": self.report.levy_incidence.to_dict(orient="records"),
                "metadata": self.metadata.model_dump(mode="json"),
            }
        )


def run(request: StakeRequest, *, atlas: Any = None, params: ParameterSet | None = None) -> StakeResult:
    """Run China's retaliation against the group through the engine and report each member's stake."""
    from critmin.disruption import simulate
    from critmin.pricing.china import retaliation_materials, retaliation_scenario

    params = params or ParameterSet()
    if atlas is None:
        from critmin.atlas import load_atlas

        atlas = load_atlas()
    if request.group not in atlas.groups:
        raise ValueError(f"group: {request.group!r}; expected one of {', '.join(sorted(atlas.groups))}")
    members = set(atlas.groups[request.group]) | ({request.member} if request.member else set())
    if request.member == "CHN":
        raise ValueError("member: 'CHN'; China is the country whose response is modelled, not a member")
    materials = retaliation_materials(atlas, members)
    scenario = retaliation_scenario(
        members,
        materials,
        share=params.get("retaliation_share"),
        months=int(params.get("retaliation_months")),
        horizon=request.horizon_months,
    )
    shock = simulate(atlas, scenario, params)
    report = stake_report(
        atlas, members, shock, levy_rate=request.levy_rate, year=request.year, params=params
    )
    detail = report.member(request.member) if request.member else None
    meta = report.metadata.model_copy(
        update={"parameters": report.metadata.parameters | {"group": request.group, "materials": materials}}
    )
    return StakeResult(request, report, detail, meta)
