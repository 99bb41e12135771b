"""The :class:`SupplyChain` container: the atlas tables plus a few label-based accessors."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from critmin.atlas.schema import FLAGS, STAGES, empty

NUMBER_FLAGS: tuple[str, ...] = ("observed", "estimated", "derived", "assumed")
NON_NUMBER_FLAGS: tuple[str, ...] = (
    "withheld",
    "not_available",
    "not_applicable",
    "net_exporter",
    "below_half_unit",
    "bound",
    "range",
    "qualitative",
    "garbled",
    "empty",
)


@dataclass(frozen=True, eq=False)
class SupplyChain:
    """Validated, unit-normalised supply-chain tables (columns in :data:`critmin.atlas.schema.COLUMNS`).

    ``production`` holds tonnes of contained content by (material, stage, iso3, year) with provenance;
    ``primary`` marks the rows of the source chosen for each (material, stage, year). World totals are kept
    apart in ``world_totals`` and never summed into shares.
    """

    production: pd.DataFrame
    world_totals: pd.DataFrame
    reconciliation: pd.DataFrame
    materials: pd.DataFrame
    groups: dict[str, frozenset[str]]
    trade: pd.DataFrame
    wgi: pd.DataFrame
    us_nir: pd.DataFrame
    us_import_sources: pd.DataFrame
    prices: pd.DataFrame
    editions: dict[str, str] = field(default_factory=dict)
    #: IEA 2030/2035/2040 base-case projections (never mixed into ``production``)
    projections: pd.DataFrame = field(default_factory=lambda: empty("projections"))
    gdp: pd.DataFrame = field(default_factory=lambda: empty("gdp"))  # WDI GDP, industry value added (USD)
    #: MCS 2025's estimates of 2024 world totals (MCS 2026 publishes 2024 again): edition revisions
    world_estimates: pd.DataFrame = field(default_factory=lambda: empty("world_estimates"))
    #: the consistency problems found when the atlas was loaded leniently (:func:`critmin.atlas.load_atlas`)
    warnings: tuple[str, ...] = ()

    def _primary(self) -> pd.DataFrame:
        p = self.production
        return p[p["primary"].astype(bool)]

    def stage_series(self, material: str, stage: str, year: int) -> pd.Series:
        """Primary-source tonnes by iso3 (``OTH`` and combined codes kept, NaN rows dropped)."""
        p = self._primary()
        sel = p[(p["material"] == material) & (p["stage"] == stage) & (p["year"] == int(year))]
        sel = sel.dropna(subset=["tonnes"])
        s = sel.groupby("iso3", sort=True)["tonnes"].sum()
        s.name = f"{material}/{stage}/{year}"
        s.index.name = "iso3"
        return s.astype("float64")

    def stages_of(self, material: str) -> list[str]:
        """Stages with any production row for ``material``, in supply-chain order."""
        p = self.production
        have = set(p.loc[p["material"] == material, "stage"])
        return [s for s in STAGES if s in have]

    def years_of(self, material: str, stage: str) -> list[int]:
        """Years with primary rows carrying a number for (material, stage), ascending (a year whose rows are
        all withheld / not available, such as germanium refining 2022-2023, is not a year with data)."""
        p = self._primary()
        yrs = p.loc[(p["material"] == material) & (p["stage"] == stage) & p["tonnes"].notna(), "year"]
        return sorted(int(y) for y in set(yrs))

    def missing_stages(self) -> pd.DataFrame:
        """Stages the registry declares for a material (``materials.stages``) that have no primary
        production rows (columns ``material, stage``). A missing stage is reported, never filled."""
        p = self._primary()
        have = set(zip(p["material"], p["stage"], strict=True))
        rows = [
            (str(m.slug), s)
            for m in self.materials.itertuples(index=False)
            for s in str(m.stages).split(";")
            if s and (str(m.slug), s) not in have
        ]
        return pd.DataFrame(rows, columns=["material", "stage"])

    def consistency_problems(self) -> list[str]:
        """Invariants of the production table that the build guarantees; an empty list means consistent.

        Stages and flags are from the documented vocabularies; world totals are not production rows; tonnes
        are >= 0 and are NaN exactly when the flag carries no number; each (material, stage, year) has one
        primary edition; every material is in the registry. Each problem names its rows
        (``material/stage/iso3/year/edition``, the first three)."""
        p = self.production
        out: list[str] = []

        def rows(mask: pd.Series, what: str) -> None:
            if mask.any():
                ids = p.loc[mask, ["material", "stage", "iso3", "year", "edition"]].head(3)
                eg = ", ".join("/".join(str(v) for v in r) for r in ids.itertuples(index=False))
                out.append(f"production: {what} in {int(mask.sum())} row(s), e.g. {eg}")

        stages, flags = set(p["stage"].unique()), set(p["flag"].unique())
        rows(~p["stage"].isin(STAGES), f"stage not in {STAGES}: {sorted(stages - set(STAGES))}")
        documented = set(FLAGS) | set(NON_NUMBER_FLAGS)
        rows(~p["flag"].isin(documented), f"undocumented flag {sorted(flags - documented)}")
        rows(p["iso3"] == "WLD", "world-total rows (WLD)")
        rows(p["tonnes"] < 0, "negative tonnes")
        carries = p["flag"].isin(NUMBER_FLAGS)
        rows(
            (carries & p["tonnes"].isna()) | (~carries & p["tonnes"].notna()),
            "tonnes NaN does not match the flag (numbers only for observed/estimated/derived/assumed)",
        )
        prim = p[p["primary"].astype(bool)]
        n = prim.groupby(["material", "stage", "year"])["edition"].nunique()
        if (n > 1).any():
            out.append(f"production: several primary editions for {list(n[n > 1].index[:3])}")
        unknown = sorted(set(p["material"].unique()) - set(self.materials["slug"]))
        if unknown:
            out.append(f"production: materials {unknown} not in the registry (materials table)")
        return out
