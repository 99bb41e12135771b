"""The project pipeline as data: bundled compiled projects plus user or member projects, on the atlas basis.

A project row has the columns of the bundled ``raw/projects/allied_projects.csv`` (:data:`PROJECT_COLUMNS`)
and optionally the planning columns :data:`PLANNING_COLUMNS` (unit operating cost, earliest start, lead
time, ramp-up). :func:`build_pipeline` converts each capacity to the atlas content basis with a cited
factor from ``data/project_conversions.csv`` (or excludes the row with a reason) and fills every missing
planning figure from a documented, overridable class default, listing the defaults each row depends on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from critmin.parameters import ParameterSet

PROJECT_COLUMNS = [
    "project_id",
    "name",
    "company",
    "country_iso3",
    "material",
    "stage",
    "product",
    "capacity_t_per_year",
    "capacity_basis",
    "capex_usd_m",
    "status",
    "first_production_year",
    "public_support",
    "source_title",
    "source_url",
    "source_date",
    "notes",
]
PLANNING_COLUMNS = ["unit_opex_usd_per_t", "earliest_start", "lead_time_years", "ramp_up_years"]
STATUSES = ("operating", "construction", "financed", "feasibility", "announced", "cancelled")
STAGES = ("mine", "refine", "metal", "component")
CONVERSION_COLUMNS = [
    "material",
    "stage",
    "basis_pattern",
    "atlas_material",
    "atlas_stage",
    "factor",
    "source",
    "note",
]
_REQUIRED_TEXT = ("project_id", "name", "country_iso3", "material", "stage", "status", "source_title")
_NUMERIC = {
    "capacity_t_per_year": (0.0, None),
    "capex_usd_m": (0.0, None),
    "first_production_year": (1900.0, 2100.0),
    "unit_opex_usd_per_t": (0.0, None),
    "earliest_start": (1900.0, 2100.0),
    "lead_time_years": (0.0, 40.0),
    "ramp_up_years": (0.0, 20.0),
}


class ProjectDataError(ValueError):
    """A project file with bad rows; ``problems`` lists each as file, row, column, value and expectation."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid project data:\n" + "\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Pipeline:
    """The converted pipeline: one row per project, included or excluded (with the reason).

    Columns: ``project_id, name, country_iso3, material, stage`` (atlas slug and stage after conversion),
    ``capacity_t`` (tonnes a year on the atlas basis), ``conversion_factor``, ``conversion_source``,
    ``capex_usd``, ``unit_opex_usd_per_t``, ``status``, ``earliest_start``, ``lead_time_years``,
    ``ramp_up_years``, ``source_title``, ``source_url``, ``origin`` (``bundled`` or the user file),
    ``included``, ``exclusion_reason`` and ``defaults_used`` (``;``-joined names of class defaults).
    ``class_defaults`` lists each class default with its value and how it was obtained.
    """

    projects: pd.DataFrame
    class_defaults: pd.DataFrame

    def candidates(self, material: str, stage: str) -> pd.DataFrame:
        """Included projects for one atlas (material, stage), indexed by ``project_id``."""
        p = self.projects
        sel = p[p["included"] & (p["material"] == material) & (p["stage"] == stage)]
        return sel.set_index("project_id")

    def excluded(self) -> pd.DataFrame:
        """Excluded projects with their reasons."""
        p = self.projects
        return p.loc[~p["included"], ["project_id", "material", "stage", "status", "exclusion_reason"]]


def _read_text_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def load_bundled_projects() -> pd.DataFrame:
    """The compiled public projects (``raw/projects/allied_projects.csv``), validated."""
    text = (
        resources.files("critmin.data")
        .joinpath("raw/projects/allied_projects.csv")
        .read_text(encoding="utf-8")
    )
    return validate_projects(_read_text_csv(text), "raw/projects/allied_projects.csv")


def load_user_projects(path: str | Path) -> pd.DataFrame:
    """User or member projects from a CSV with the bundled columns (validated: all rows or none)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProjectDataError([f"{p}: cannot read the file ({exc.strerror})"]) from exc
    return validate_projects(_read_text_csv(text), str(p))


def load_conversions() -> pd.DataFrame:
    """Conversion factors from project capacity bases to the atlas content basis (each with a source)."""
    text = resources.files("critmin.data").joinpath("project_conversions.csv").read_text(encoding="utf-8")
    table = _read_text_csv(text)
    missing = [c for c in CONVERSION_COLUMNS if c not in table.columns]
    if missing:
        raise ProjectDataError([f"project_conversions.csv: missing columns {missing}"])
    return table


def _number(value: str) -> float | None:
    value = value.strip().replace(",", "")
    if value == "":
        return None
    return float(value)


def validate_projects(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """Check a raw project table; return it typed (numbers as floats, NaN when empty) or raise.

    Every problem is reported at once, naming the file, the CSV row (header = row 1), the column, the
    value and what was expected; nothing is returned when any row is bad.
    """
    problems: list[str] = []
    missing = [c for c in PROJECT_COLUMNS if c not in df.columns]
    if missing:
        raise ProjectDataError([f"{file}: missing columns {missing}; expected the columns {PROJECT_COLUMNS}"])
    unknown = [c for c in df.columns if c not in PROJECT_COLUMNS and c not in PLANNING_COLUMNS]
    if unknown:
        raise ProjectDataError(
            [f"{file}: unknown columns {unknown}; allowed are {PROJECT_COLUMNS} plus {PLANNING_COLUMNS}"]
        )
    out = df.copy()
    for col in PLANNING_COLUMNS:
        if col not in out.columns:
            out[col] = ""
    seen: dict[str, int] = {}
    numbers: dict[str, list[float]] = {c: [] for c in _NUMERIC}
    for i, row in enumerate(out.itertuples(index=False)):
        r: dict[str, object] = dict(zip(out.columns, row, strict=True))
        line = i + 2
        for col in _REQUIRED_TEXT:
            if not str(r[col]).strip():
                problems.append(f"{file} row {line}, column {col}: empty; expected a value")
        pid = str(r["project_id"]).strip()
        if pid in seen:
            problems.append(
                f"{file} row {line}, column project_id: {pid!r} repeats row {seen[pid]}; expected unique ids"
            )
        seen.setdefault(pid, line)
        if r["status"] not in STATUSES:
            problems.append(f"{file} row {line}, column status: {r['status']!r}; expected one of {STATUSES}")
        if r["stage"] not in STAGES:
            problems.append(f"{file} row {line}, column stage: {r['stage']!r}; expected one of {STAGES}")
        iso = str(r["country_iso3"])
        if not re.fullmatch(r"[A-Z]{3}", iso) or iso in {"OTH", "WLD"}:
            problems.append(
                f"{file} row {line}, column country_iso3: {iso!r}; expected an ISO 3166 alpha-3 country code"
            )
        else:
            import pycountry

            if pycountry.countries.get(alpha_3=iso) is None:
                problems.append(
                    f"{file} row {line}, column country_iso3: {iso!r}; expected an ISO 3166 alpha-3 code"
                )
        for col, (lo, hi) in _NUMERIC.items():
            text = str(r[col])
            try:
                value = _number(text)
            except ValueError:
                problems.append(f"{file} row {line}, column {col}: {text!r}; expected a number or empty")
                numbers[col].append(np.nan)
                continue
            if value is not None and (
                value < lo or (hi is not None and value > hi) or not np.isfinite(value)
            ):
                bound = f">= {lo:g}" if hi is None else f"between {lo:g} and {hi:g}"
                problems.append(f"{file} row {line}, column {col}: {text!r}; expected a number {bound}")
            numbers[col].append(np.nan if value is None else value)
        if str(r["capacity_t_per_year"]).strip() and not str(r["capacity_basis"]).strip():
            problems.append(
                f"{file} row {line}, column capacity_basis: empty; expected the product the capacity counts"
            )
    if problems:
        raise ProjectDataError(problems)
    for col, values in numbers.items():
        out[col] = np.asarray(values, dtype=float)
    return out.reset_index(drop=True)


def _convert(row: pd.Series, conversions: pd.DataFrame) -> tuple[str, str, float, str, str]:
    """(atlas_material, atlas_stage, factor, source, exclusion reason) for one project row."""
    cand = conversions[(conversions["material"] == row["material"]) & (conversions["stage"] == row["stage"])]
    basis = str(row["capacity_basis"])
    for conv in cand.itertuples(index=False):
        if re.search(str(conv.basis_pattern), basis, flags=re.IGNORECASE):
            if not str(conv.factor).strip():
                return "", "", np.nan, "", str(conv.note)
            return str(conv.atlas_material), str(conv.atlas_stage), float(conv.factor), str(conv.source), ""
    return (
        "",
        "",
        np.nan,
        "",
        (
            f"no conversion from capacity basis {basis!r} ({row['material']}, {row['stage']}) to the "
            "atlas basis in project_conversions.csv"
        ),
    )


def _capex_class_defaults(conv: pd.DataFrame, params: ParameterSet) -> pd.DataFrame:
    """Median capex per tonne a year of capacity (atlas basis) per (material, stage) over stating projects.

    An override ``capex_usd_per_tpa_<stage>`` for the material in ``params`` replaces the median.
    """
    stated = conv[np.isfinite(conv["capex_usd"]) & np.isfinite(conv["capacity_t"]) & (conv["capacity_t"] > 0)]
    rows = []
    for mat, stage in (
        conv.loc[conv["material"] != "", ["material", "stage"]].drop_duplicates().itertuples(index=False)
    ):
        peers = stated[(stated["material"] == mat) & (stated["stage"] == stage)]
        name = f"capex_usd_per_tpa_{stage}"
        override = params.overrides.get((name, str(mat)))
        if override is not None:
            value, how = float(override), "override"
        elif len(peers):
            value = float(np.median(peers["capex_usd"] / peers["capacity_t"]))
            how = "derived: median over " + ", ".join(sorted(peers["project_id"]))
        else:
            value, how = np.nan, "no project of this class states capex and capacity"
        rows.append({"name": name, "material": mat, "stage": stage, "value": value, "basis": how})
    return pd.DataFrame(rows, columns=["name", "material", "stage", "value", "basis"])


def _convert_rows(raw: pd.DataFrame, conversions: pd.DataFrame, baseline_year: int) -> pd.DataFrame:
    """One row per project on the atlas basis, with inclusion and the exclusion reason."""
    rows = []
    for _, r in raw.iterrows():
        cap = r["capacity_t_per_year"]
        mat, stage, factor, src, reason = _convert(r, conversions)
        if not np.isfinite(cap):
            reason = "no capacity stated in the source"
        first = r["first_production_year"]
        if r["status"] == "cancelled":
            reason = "cancelled (or suspended) in the newest source"
        elif r["status"] == "operating" and (not np.isfinite(first) or first <= baseline_year):
            reason = f"operating by {baseline_year}: its output is already in the atlas baseline"
        rows.append(
            {
                "project_id": r["project_id"],
                "name": r["name"],
                "country_iso3": r["country_iso3"],
                "material": mat or r["material"],
                "stage": stage or r["stage"],
                "capacity_t": cap * factor if not reason else np.nan,
                "conversion_factor": factor,
                "conversion_source": src,
                "capex_usd": r["capex_usd_m"] * 1e6,
                "unit_opex_usd_per_t": r["unit_opex_usd_per_t"],
                "status": r["status"],
                "first_production_year": first,
                "earliest_start": r["earliest_start"],
                "lead_time_years": r["lead_time_years"],
                "ramp_up_years": r["ramp_up_years"],
                "source_title": r["source_title"],
                "source_url": r["source_url"],
                "origin": r["origin"],
                "included": not reason,
                "exclusion_reason": reason,
            }
        )
    return pd.DataFrame(rows)


def _fill_defaults(conv: pd.DataFrame, capex_defaults: pd.DataFrame, params: ParameterSet) -> pd.DataFrame:
    """Fill missing capex, opex, lead time, ramp-up and earliest start from class defaults (listed)."""
    conv = conv.copy()
    defaults_used: list[list[str]] = [[] for _ in range(len(conv))]
    capex = conv["capex_usd"].to_numpy(dtype=float).copy()
    opex = conv["unit_opex_usd_per_t"].to_numpy(dtype=float).copy()
    lead = conv["lead_time_years"].to_numpy(dtype=float).copy()
    ramp = conv["ramp_up_years"].to_numpy(dtype=float).copy()
    start = conv["earliest_start"].to_numpy(dtype=float).copy()
    included = conv["included"].to_numpy(dtype=bool).copy()
    reasons = conv["exclusion_reason"].to_numpy(dtype=object).copy()
    first_year = params.get("plan_first_year")
    for i in range(len(conv)):
        r = conv.iloc[i]
        if not included[i]:
            continue
        used = defaults_used[i]
        if not np.isfinite(capex[i]):
            hit = capex_defaults[
                (capex_defaults["material"] == r["material"]) & (capex_defaults["stage"] == r["stage"])
            ]
            per_t = float(hit["value"].iloc[0]) if len(hit) else np.nan
            if not np.isfinite(per_t):
                included[i] = False
                reasons[i] = "no capex stated and no project of the same material and stage states one"
                continue
            capex[i] = per_t * r["capacity_t"]
            used.append(f"capex_usd_per_tpa_{r['stage']}[{r['material']}]")
        if not np.isfinite(opex[i]):
            opex[i] = params.get("plan_unit_opex_usd_per_t", r["material"])
            used.append("plan_unit_opex_usd_per_t")
        if not np.isfinite(lead[i]):
            if r["status"] == "operating":
                lead[i] = 0.0
            else:
                lead[i] = params.get(f"plan_lead_time_years_{r['status']}", r["material"])
                used.append(f"plan_lead_time_years_{r['status']}")
        if not np.isfinite(ramp[i]):
            ramp[i] = params.get("plan_ramp_up_years", r["material"])
            used.append("plan_ramp_up_years")
        if not np.isfinite(start[i]):
            fp = r["first_production_year"]
            start[i] = max(first_year, fp - lead[i]) if np.isfinite(fp) else first_year
    conv["capex_usd"] = capex
    conv["unit_opex_usd_per_t"] = opex
    conv["lead_time_years"] = lead
    conv["ramp_up_years"] = ramp
    conv["earliest_start"] = start
    conv["included"] = included
    conv["exclusion_reason"] = reasons
    conv["defaults_used"] = [";".join(u) for u in defaults_used]
    conv.loc[~conv["included"], "defaults_used"] = ""
    return conv


def build_pipeline(
    projects: pd.DataFrame | None = None,
    params: ParameterSet | None = None,
    conversions: pd.DataFrame | None = None,
    baseline_year: int | None = None,
) -> Pipeline:
    """Convert validated project rows to the atlas basis and fill missing figures from class defaults.

    ``projects`` defaults to the bundled pipeline; pass ``pd.concat([load_bundled_projects(),
    load_user_projects(path)])`` to add user projects (ids must stay unique). Operating projects that
    started by ``baseline_year`` (default ``options().default_year``; or give no start year) are excluded:
    their output is already in the atlas baseline. Cancelled projects and projects without a stated
    capacity are excluded with a reason.
    """
    params = params or ParameterSet()
    raw = load_bundled_projects() if projects is None else projects
    dup = raw["project_id"][raw["project_id"].duplicated()]
    if len(dup):
        raise ProjectDataError(
            [f"project_id {dup.iloc[0]!r} appears twice (bundled and user rows must differ)"]
        )
    conversions = load_conversions() if conversions is None else conversions
    if "origin" not in raw.columns:
        raw = raw.assign(origin="bundled")
    if baseline_year is None:
        from critmin.options import options

        baseline_year = options().default_year
    conv = _convert_rows(raw, conversions, baseline_year)
    capex_defaults = _capex_class_defaults(conv[conv["included"]], params)
    return Pipeline(_fill_defaults(conv, capex_defaults, params), capex_defaults)
