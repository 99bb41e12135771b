"""Scenario events as pydantic models and the YAML/JSON scenario reader.

An event is one of ``export_restriction``, ``production_outage`` or ``demand_shock`` (a discriminated union
on ``type``). A scenario has a name, a horizon in months, a list of events and optional parameter overrides
``{"name[material]": value}`` (or ``{"name": value}`` for the ``default`` row). Optional ``start``
(``"YYYY-MM"``, month 0 of the horizon) dates the scenario: atlas shares, trade, prices and GDP are taken
from the latest year before it. Optional ``initial_balance`` ``{material: share}`` is the market's balance
when the scenario starts, as a share of demand (``+0.05`` = a 5% surplus, ``-0.05`` = a 5% deficit).
Country fields accept an ISO3 code or a group name of the atlas; group names are resolved later, against
the atlas in use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from critmin.parameters import parse_keyed

Stage = Literal["mine", "refine"]


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names file, event index, field, value and expectation."""


def _country_or_group(v: str) -> str:
    v = v.strip()
    if not v:
        raise ValueError("expected an ISO3 code or a group name")
    return v.upper() if len(v) == 3 and v.isalpha() else v


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    material: str = Field(min_length=1, description="material slug, e.g. gallium")
    start_month: int = Field(default=0, ge=0, description="first month (0 = first month of the horizon)")
    duration_months: int = Field(default=1, ge=1, description="number of months the event lasts")

    def active(self, horizon: int) -> list[int]:
        """Months of the horizon in which the event is in force."""
        return list(range(self.start_month, min(horizon, self.start_month + self.duration_months)))


class ExportRestriction(_Event):
    """``exporter`` withholds ``share`` of its exports of (material, stage) from ``targets``."""

    type: Literal["export_restriction"] = "export_restriction"
    exporter: str = Field(description="ISO3 code or group name")
    stage: Stage = "refine"
    share: float = Field(gt=0.0, le=1.0, description="share of exports withheld (0-1]")
    targets: str | list[str] = Field(default="all", description="'all', a group name or a list of ISO3")
    ramp_months: int = Field(default=0, ge=0, description="months to reach the full share (linear)")

    _exporter = field_validator("exporter")(classmethod(lambda cls, v: _country_or_group(v)))

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, str):
            return "all" if v.strip().lower() == "all" else _country_or_group(v)
        if not v:
            raise ValueError("expected 'all', a group name or a non-empty list of ISO3 codes")
        return [_country_or_group(c) for c in v]


class ProductionOutage(_Event):
    """``country`` loses ``share`` of its (material, stage) output."""

    type: Literal["production_outage"] = "production_outage"
    country: str = Field(description="ISO3 code or group name")
    stage: Stage = "mine"
    share: float = Field(gt=0.0, le=1.0, description="share of output lost (0-1]")

    _country = field_validator("country")(classmethod(lambda cls, v: _country_or_group(v)))


class DemandShock(_Event):
    """Demand for ``material`` changes by ``share`` (e.g. 0.1 = +10%) in one sector, one country or all."""

    type: Literal["demand_shock"] = "demand_shock"
    share: float = Field(ge=-1.0, le=5.0, description="relative change of demand (-1 to 5)")
    sector: str | None = Field(default=None, description="end-use sector (see docs/methods/disruption.md)")
    country: str | None = Field(default=None, description="ISO3 code whose demand changes")

    @model_validator(mode="after")
    def _one_scope(self) -> DemandShock:
        if self.sector is not None and self.country is not None:
            raise ValueError("give either sector or country, not both")
        return self


Event = Annotated[ExportRestriction | ProductionOutage | DemandShock, Field(discriminator="type")]


class Scenario(BaseModel):
    """A named overlay of events on the atlas (never a modified atlas)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    description: str = ""
    horizon_months: int = Field(default=24, ge=1, le=240)
    events: list[Event] = Field(default_factory=list)
    parameters: dict[str, float] = Field(default_factory=dict, description="overrides 'name[material]': v")
    start: str | None = Field(
        default=None,
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="month 0 of the horizon, 'YYYY-MM'; data from the latest year before it",
    )
    initial_balance: dict[str, Annotated[float, Field(ge=-0.5, le=0.5)]] = Field(
        default_factory=dict, description="material -> surplus (+) or deficit (-) as a share of demand"
    )

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, v: dict[str, float]) -> dict[str, float]:
        parse_keyed(v)  # an unknown name or material raises, naming the close matches
        return v

    def overrides(self) -> dict[tuple[str, str], float]:
        """Parameter overrides as ``{(name, material): value}`` for :class:`ParameterSet` (validated)."""
        return parse_keyed(self.parameters)


def _explain(err: ValidationError, source: str, data: Any) -> ScenarioError:
    lines = []
    for e in err.errors():
        loc = list(e["loc"])
        where = source
        if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            where += f", event {loc[1]}"
            # drop the discriminator tag pydantic inserts after the index
            rest = [
                str(p)
                for p in loc[2:]
                if p not in ("export_restriction", "production_outage", "demand_shock")
            ]
        else:
            rest = [str(p) for p in loc]
        value = e.get("input")
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            rest = [*rest, "type"]
            value = value.get("type") if isinstance(value, dict) else value
        lines.append(f"{where}, field {'.'.join(rest) or '(scenario)'}: value {value!r}; {e['msg']}")
    return ScenarioError("invalid scenario:\n  " + "\n  ".join(lines))


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping; errors name the source, event index, field, value and expectation."""
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: expected a mapping with name, horizon_months and events; got {type(data).__name__}"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise _explain(err, source, data) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a YAML (``.yaml``/``.yml``) or JSON file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            f"{p}: cannot read scenario file: it does not exist; "
            f"bundled scenarios: {', '.join(bundled_names())}"
        ) from None
    except OSError as err:
        raise ScenarioError(f"{p}: cannot read scenario file ({err.strerror})") from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ScenarioError(
            f"{p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {err}"
        ) from None
    return parse_scenario(data, str(p))


def bundled_names() -> list[str]:
    """Names of the example scenarios shipped in ``critmin/scenarios/``."""
    from importlib import resources

    folder = resources.files("critmin.scenarios")
    return sorted(e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml"))


def bundled_scenario(name: str) -> Scenario:
    """One of the example scenarios shipped in ``critmin/scenarios/`` (e.g. ``gallium-2023``)."""
    from importlib import resources

    entry = resources.files("critmin.scenarios").joinpath(f"{name}.yaml")
    if not entry.is_file():
        raise ScenarioError(
            f"no bundled scenario {name!r} (and no file of that name); bundled scenarios: "
            f"{', '.join(bundled_names())}"
        )
    return parse_scenario(yaml.safe_load(entry.read_text(encoding="utf-8")), f"critmin/scenarios/{name}.yaml")
