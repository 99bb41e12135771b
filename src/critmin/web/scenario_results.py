"""Scenario lab content that needs no server: composing a scenario from the form or a YAML upload
(validated by ``critmin.disruption.parse_scenario``), and the blocks of a finished job's result
(``ShockResult.to_dict()`` of one scenario; the Monte Carlo ranking of ``run_monte_carlo``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import yaml

from critmin.web import figures
from critmin.web.page import Block
from critmin.web.render import money

MONTH_COLUMNS = ["material", "month", "restricted_t", "shortfall_t", "released_t", "demand_destroyed_t",
                 "consumption_outside_t"]  # fmt: skip
FORM_FIELDS = ("name", "material", "exporter", "stage", "share", "targets", "start_month", "duration_months",
               "ramp_months", "horizon_months")  # fmt: skip


class ScenarioInputError(ValueError):
    """A form or YAML scenario that does not validate (the message names the field, value and rule)."""


def scenario_choices(atlas: Any) -> dict[str, dict[str, list[str]]]:
    """Valid form choices: per material, its stages with production data, and per stage the countries
    that produce it in the latest year (largest first; ``OTH`` and combined codes left out)."""
    out: dict[str, dict[str, list[str]]] = {}
    for material in sorted(str(m) for m in atlas.materials["slug"]):
        stages: dict[str, list[str]] = {}
        for stage in atlas.stages_of(material):
            if stage not in ("mine", "refine"):
                continue
            years = atlas.years_of(material, stage)
            if not years:
                continue
            series = atlas.stage_series(material, stage, years[-1])
            series = series[(series > 0) & series.index.str.fullmatch(r"[A-Z]{3}") & (series.index != "OTH")]
            if len(series):
                stages[stage] = [str(c) for c in series.sort_values(ascending=False).index]
        if stages:
            out[material] = stages
    return out


def check_choice(
    choices: Mapping[str, Mapping[str, list[str]]], material: str, stage: str, exporter: str
) -> None:
    """:class:`ScenarioInputError` unless ``exporter`` produces ``material`` at ``stage``."""
    if material not in choices:
        raise ScenarioInputError(f"form field material: {material!r} has no mine or refine production data")
    if stage not in choices[material]:
        raise ScenarioInputError(
            f"form field stage: {material} has no {stage!r} production data; "
            f"expected one of {sorted(choices[material])}"
        )
    producers = choices[material][stage]
    if exporter not in producers:
        raise ScenarioInputError(
            f"form field exporter: {exporter!r} does not produce {material} at stage {stage} in the data; "
            f"expected one of {producers[:12]}" + (" ..." if len(producers) > 12 else "")
        )


def compose_scenario(form: Mapping[str, str]) -> dict[str, Any]:
    """A one-event export-restriction scenario from the lab form, validated; returns the scenario mapping."""
    from critmin.disruption import ScenarioError, parse_scenario

    def number(name: str, cast: type, default: Any) -> Any:
        raw = str(form.get(name, "")).strip()
        if raw == "":
            return default
        try:
            return cast(raw)
        except ValueError:
            kind = "an integer" if cast is int else "a number"
            raise ScenarioInputError(f"form field {name}: value {raw!r}; expected {kind}") from None

    targets_raw = str(form.get("targets", "all")).strip() or "all"
    targets: str | list[str] = (
        [t.strip() for t in targets_raw.split(",") if t.strip()] if "," in targets_raw else targets_raw
    )
    material = str(form.get("material", "")).strip()
    exporter = str(form.get("exporter", "CHN")).strip() or "CHN"
    data = {
        "name": str(form.get("name", "")).strip() or f"{exporter}-{material}-restriction",
        "horizon_months": number("horizon_months", int, 24),
        "events": [
            {
                "type": "export_restriction",
                "material": material,
                "exporter": exporter,
                "stage": str(form.get("stage", "refine")),
                "share": number("share", float, 1.0),
                "targets": targets,
                "start_month": number("start_month", int, 0),
                "duration_months": number("duration_months", int, 12),
                "ramp_months": number("ramp_months", int, 0),
            }
        ],
    }
    try:
        return parse_scenario(data, "scenario form").model_dump(mode="json")
    except ScenarioError as err:
        raise ScenarioInputError(str(err)) from err


def scenario_from_yaml(text: str, filename: str) -> dict[str, Any]:
    """A scenario from uploaded YAML (or JSON) text, validated; returns the scenario mapping."""
    from critmin.disruption import ScenarioError, parse_scenario

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ScenarioInputError(f"{filename}: not valid YAML: {err}") from None
    try:
        return parse_scenario(data, filename).model_dump(mode="json")
    except ScenarioError as err:
        raise ScenarioInputError(str(err)) from err


def _events(scenario: Mapping[str, Any]) -> pd.DataFrame:
    cols = ["type", "material", "exporter", "stage", "share", "targets", "start_month", "duration_months",
            "ramp_months"]  # fmt: skip
    rows = [{c: (", ".join(e[c]) if isinstance(e.get(c), list) else e.get(c)) for c in cols}
            for e in scenario.get("events", [])]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def shock_summary(result: Mapping[str, Any], scenario: Mapping[str, Any]) -> tuple[list[str], Block]:
    """The scenario's message in words (peak price, ban window, shortfall, loss and its parts) and a table
    of the same numbers per material, from the job's result and its restated inputs."""
    events = _events(scenario)
    rows, lines = [], []
    for material, m in result["materials"].items():
        outside = [v for v in m["price_index"]["outside"] if v is not None]
        peak = max(outside) if outside else float("nan")
        peak_month = outside.index(peak) if outside else -1
        ev = events[events["material"] == material]
        end = int((ev["start_month"] + ev["duration_months"]).max()) - 1 if len(ev) else -1
        window = f"months {int(ev['start_month'].min())}-{end}" if len(ev) else "none"
        parts = {k: v for k, v in (m.get("loss_parts_usd") or m.get("loss_parts") or {}).items()
                 if isinstance(v, int | float)}  # fmt: skip
        row = {"material": material, "ban window": window, "peak price (x pre-shock)": round(peak, 3),
               "peak month": peak_month, "shortfall (t)": float(f"{float(sum(m['shortfall_t'])):.4g}"),
               "loss (USD)": round(float(m["loss_usd"])), **{f"loss: {k} (USD)": round(float(v))
                                                              for k, v in parts.items()}}  # fmt: skip
        rows.append(row)
        part_text = (" (" + ", ".join(f"{k.replace('_', ' ')} {money(v)}" for k, v in parts.items()) + ")"
                     if parts else "")  # fmt: skip
        lines.append(
            f"{material}: restriction in {window} of {result.get('horizon_months')}; peak price outside the "
            f"restricting zone {peak:.2f} x the pre-shock price (month {peak_month}); shortfall "
            f"{row['shortfall (t)']:,.4g} t; loss {money(float(m['loss_usd']))}{part_text}."
        )
    return lines, Block("summary", "Peak price, ban window and loss per material", pd.DataFrame(rows),
                        wide=True, caption="Peak price: the highest monthly price index outside the "
                        "restricting zone (1 = before the shock).")  # fmt: skip


def inputs_block(scenario: Mapping[str, Any]) -> Block:
    """The scenario's events as run (restated inputs)."""
    return Block("inputs", "Scenario as run (events)", _events(scenario), wide=True)


def shock_blocks(result: Mapping[str, Any]) -> list[Block]:
    """Blocks of one simulated scenario: price paths per zone, shortfall by member, loss by sector,
    reserve releases and the monthly balance, from ``ShockResult.to_dict()``."""
    prices: list[dict[str, Any]] = []
    months: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    sectors: list[dict[str, Any]] = []
    for material, m in result["materials"].items():
        for zone, path in m["price_index"].items():
            series = f"{material} / {zone}"
            prices.extend(
                {"material": material, "zone": zone, "series": series, "month": i, "price_index": v}
                for i, v in enumerate(path)
            )
        for i in range(len(m["shortfall_t"])):
            months.append(
                {
                    "material": material,
                    "month": i,
                    "restricted_t": m["restricted_t"][i],
                    "shortfall_t": m["shortfall_t"][i],
                    "released_t": m["released_t"][i],
                    "demand_destroyed_t": m["demand_destroyed_t"][i],
                    "consumption_outside_t": m["consumption_outside_t"][i],
                }
            )
        members.extend(
            {"material": material, "member": k, "shortfall_t": v}
            for k, v in m["shortfall_by_member_t"].items()
        )
        sectors.extend(
            {"material": material, "sector": k, "loss_usd": v} for k, v in m["loss_by_sector_usd"].items()
        )
    price_frame = pd.DataFrame(prices, columns=["material", "zone", "series", "month", "price_index"])
    month_frame = pd.DataFrame(months, columns=MONTH_COLUMNS)
    member_frame = pd.DataFrame(members, columns=["material", "member", "shortfall_t"]).sort_values(
        "shortfall_t", ascending=False, ignore_index=True
    )
    sector_frame = pd.DataFrame(sectors, columns=["material", "sector", "loss_usd"])
    releases = month_frame.melt(
        id_vars=["material", "month"], value_vars=["restricted_t", "shortfall_t", "released_t"],
        var_name="flow", value_name="tonnes",
    )  # fmt: skip
    releases["series"] = releases["material"] + " / " + releases["flow"]
    price_fig = figures.lines(price_frame, "month", "price_index", "series", "Price index", "index")
    member_fig = figures.bars(
        member_frame.head(15), "member", "shortfall_t", "Shortfall by member", "t", group="material"
    )
    sector_fig = figures.bars(sector_frame, "sector", "loss_usd", "Loss by sector", "USD", group="material")
    flow_fig = figures.lines(releases, "month", "tonnes", "series", "Monthly flows", "t")
    return [
        Block(
            "prices", "Price paths per zone (index, 1 = before the shock)", price_frame, price_fig, wide=True
        ),
        Block(
            "members",
            "Shortfall by member (tonnes over the horizon)",
            member_frame,
            member_fig,
            "Allocation by import share (BACI import value, latest year); top 15 shown, all in the CSV.",
        ),
        Block("sectors", "Economic loss by sector", sector_frame, sector_fig),
        Block("releases", "Withheld exports, shortfall and reserve releases by month", month_frame, flow_fig),
    ]


def ranking_blocks(result: Mapping[str, Any]) -> list[Block]:
    """Blocks of a Monte Carlo run: material risk ranking and member ranking (expected loss, VaR, CVaR),
    each as a chart of the top 15 and a sortable table of every row."""
    materials = pd.DataFrame(result["summary"]).sort_values("rank", ignore_index=True)
    members = pd.DataFrame(result.get("member_summary", [])).sort_values("rank", ignore_index=True)
    top = materials.head(15)
    fig = figures.bars(top, "material", "expected_loss_usd", "Expected loss, top 15", "USD")
    blocks = [
        Block("ranking-chart", "Materials with the largest expected loss", top, fig),
        Block("ranking", "Monte Carlo risk ranking of materials", materials, wide=True),
    ]
    if len(members):
        mtop = members.head(15)
        mfig = figures.bars(mtop, "member", "expected_loss_usd", "Expected loss by member, top 15", "USD")
        blocks.insert(1, Block("member-ranking-chart", "Members with the largest expected loss", mtop, mfig))
        blocks.append(Block("member-ranking", "Members ranked by expected loss", members, wide=True))
    return blocks


def price_blocks(result: Mapping[str, Any]) -> list[Block]:
    """Blocks of a reference-price assessment job: published prices with their P25-P75 band (chart) and
    every assessed key with status, liquidity flag and reason (table). The deals themselves are not shown."""
    prices = pd.DataFrame(result["prices"])
    published = prices[prices["status"] == "published"].copy()
    published["key"] = published["material"] + " " + published["specification"] + " " + published["incoterm"]
    fig = figures.bars(published, "key", "price_usd_per_kg", "Published reference prices", "USD per kg")
    if len(published):
        fig["data"][0]["error_y"] = {
            "type": "data",
            "symmetric": False,
            "array": ((published["band_high_usd_per_t"] - published["price_usd_per_t"]) / 1000.0).tolist(),
            "arrayminus": (
                (published["price_usd_per_t"] - published["band_low_usd_per_t"]) / 1000.0
            ).tolist(),
        }
    return [
        Block("published", "Published reference prices with their P25-P75 band", published, fig),
        Block("assessed", "Every assessed key: status, liquidity and reason", prices, wide=True),
    ]
