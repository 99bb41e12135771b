"""Alliance reference prices from reported transactions (methodology: docs/methods/reference-price.md).

Steps, per assessment key (material, stage, base specification, base delivery):

1. window: deals with ``as_of - window < date <= as_of``;
2. de-duplication: one deal reported by several parties (same date, material, stage, specification,
   volume, price, currency, unit, incoterm, buyer and seller) counts once, credited to the
   alphabetically first reporter, so the same deal cannot make reporters look independent;
3. conversion to USD per tonne with the user's FX table;
4. normalisation to the base specification and delivery point with user-supplied differentials; a deal
   whose specification or incoterm has no differential is assessed under its own key;
5. robust outlier exclusion: ``|p - median| > k * max(1.4826 * MAD, floor * median)``;
6. publication rules on the included deals: at least ``ref_min_reporters`` distinct reporters and no
   reporter above ``ref_max_reporter_share`` of volume, else "insufficient data" with the reason;
7. price = volume-weighted mean; dispersion band = volume-weighted 25th-75th percentiles; liquidity flag.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critmin.parameters import ParameterSet
from critmin.pricing.transactions import FxTable, Transaction, TransactionFileError, _read_rows
from critmin.provenance import RunMetadata

MAD_TO_SIGMA = 1.4826  # consistency constant: 1.4826 * MAD estimates sigma for normal data
REF_PARAMETERS = [
    "ref_min_reporters",
    "ref_max_reporter_share",
    "ref_mad_k",
    "ref_tolerance_floor",
    "ref_liquid_min_count",
    "ref_liquid_min_reporters",
]
RESULT_COLUMNS = [
    "material",
    "stage",
    "specification",
    "incoterm",
    "status",
    "price_usd_per_t",
    "price_usd_per_kg",
    "band_low_usd_per_t",
    "band_high_usd_per_t",
    "volume_t",
    "count",
    "reporters",
    "max_reporter_share",
    "excluded_outliers",
    "liquidity",
    "reason",
    "window_start",
    "window_end",
]


class Differential(BaseModel):
    """USD/t added to a deal's price to bring ``name`` (a specification or incoterm) to the base."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    material: str = Field(min_length=1)
    stage: str = Field(min_length=1)
    kind: Literal["specification", "incoterm"]
    name: str = Field(min_length=1)
    usd_per_t: float = Field(allow_inf_nan=False)
    source: str = ""


class BaseSpec(BaseModel):
    """The base specification and delivery point that prices of (material, stage) are normalised to."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    material: str = Field(min_length=1)
    stage: str = Field(min_length=1)
    specification: str = Field(min_length=1)
    incoterm: str = Field(min_length=1)


@dataclass(frozen=True)
class Normalisation:
    """Base specifications and differentials (both user-supplied; none are bundled)."""

    bases: Sequence[BaseSpec] = ()
    differentials: Sequence[Differential] = ()

    def base_for(self, material: str, stage: str) -> BaseSpec | None:
        """The base of (material, stage), or None."""
        for b in self.bases:
            if (b.material, b.stage) == (material, stage):
                return b
        return None

    def differential(self, material: str, stage: str, kind: str, name: str) -> float | None:
        """USD/t differential for a specification or incoterm, or None."""
        for d in self.differentials:
            if (d.material, d.stage, d.kind, d.name) == (material, stage, kind, name):
                return d.usd_per_t
        return None


def read_normalisation_csv(path: str | Path) -> Normalisation:
    """Read a differentials file: rows ``material,stage,kind,name,usd_per_t,source`` where ``kind`` is
    ``base`` (name = ``specification|incoterm`` of the base), ``specification`` or ``incoterm``."""
    file = str(path)
    bases: list[BaseSpec] = []
    diffs: list[Differential] = []
    cols = ["material", "stage", "kind", "name", "usd_per_t"]
    for row, rec in _read_rows(Path(path).read_text(encoding="utf-8"), file, cols):
        if rec["kind"] == "base":
            spec, sep, inc = rec["name"].partition("|")
            if not sep or not spec.strip() or not inc.strip():
                raise TransactionFileError(
                    file, row, "name", rec["name"], "'specification|incoterm' for a base row"
                )
            bases.append(
                BaseSpec(material=rec["material"], stage=rec["stage"], specification=spec, incoterm=inc)
            )
            continue
        try:
            diffs.append(Differential.model_validate({**rec, "source": rec.get("source", "")}))
        except ValidationError as exc:
            col = str(exc.errors()[0]["loc"][0])
            expected = "'base', 'specification' or 'incoterm'" if col == "kind" else "a finite number (USD/t)"
            raise TransactionFileError(file, row, col, rec.get(col), expected) from None
    return Normalisation(tuple(bases), tuple(diffs))


@dataclass(frozen=True)
class AssessmentRules:
    """Methodology parameters (from ``pricing.csv`` through :class:`ParameterSet`, overridable)."""

    min_reporters: int
    max_reporter_share: float
    mad_k: float
    tolerance_floor: float
    liquid_min_count: int
    liquid_min_reporters: int

    @classmethod
    def from_parameters(cls, params: ParameterSet | None = None) -> AssessmentRules:
        """Rules from the parameter table."""
        p = params or ParameterSet()
        return cls(
            min_reporters=int(p.get("ref_min_reporters")),
            max_reporter_share=p.get("ref_max_reporter_share"),
            mad_k=p.get("ref_mad_k"),
            tolerance_floor=p.get("ref_tolerance_floor"),
            liquid_min_count=int(p.get("ref_liquid_min_count")),
            liquid_min_reporters=int(p.get("ref_liquid_min_reporters")),
        )


@dataclass(frozen=True)
class Assessment:
    """Published (or withheld) reference prices, the deals behind them and the run metadata."""

    prices: pd.DataFrame
    deals: pd.DataFrame
    metadata: RunMetadata = field(default_factory=RunMetadata)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value whose cumulative weight share reaches ``q`` (a step weighted quantile)."""
    order = np.lexsort((weights, values))
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    idx = int(np.searchsorted(cum, q - 1e-12, side="left"))
    return float(v[min(idx, len(v) - 1)])


def robust_inliers(prices: np.ndarray, k: float, floor: float) -> np.ndarray:
    """Boolean mask of prices within ``k`` robust scales of the median."""
    med = float(np.median(prices))
    mad = float(np.median(np.abs(prices - med)))
    scale = max(MAD_TO_SIGMA * mad, floor * abs(med))
    return np.asarray(np.abs(prices - med) <= k * scale)


def _deduplicate(txs: Iterable[Transaction]) -> list[Transaction]:
    groups: dict[tuple[object, ...], list[Transaction]] = defaultdict(list)
    for t in txs:
        key = (
            t.date,
            t.material,
            t.stage,
            t.specification,
            t.volume_t,
            t.price,
            t.currency,
            t.price_unit,
            t.incoterm,
            t.buyer.casefold(),
            t.seller.casefold(),
        )
        groups[key].append(t)
    return [min(g, key=lambda t: t.reporter.casefold()) for g in groups.values()]


def normalised_deals(
    txs: Iterable[Transaction], fx: FxTable, norm: Normalisation, window_start: date, as_of: date
) -> pd.DataFrame:
    """Deals in the window, de-duplicated, in USD/t at the base specification and delivery where possible."""
    rows = []
    for t in _deduplicate(x for x in txs if window_start < x.date <= as_of):
        rate = fx.rate(t.currency)
        if rate is None:
            raise ValueError(f"no FX rate for {t.currency}")
        usd_t = t.price * rate * (1000.0 if t.price_unit == "kg" else 1.0)
        spec, inc = t.specification, t.incoterm
        base = norm.base_for(t.material, t.stage)
        if base is not None:
            d_spec = (
                0.0
                if spec == base.specification
                else norm.differential(t.material, t.stage, "specification", spec)
            )
            d_inc = 0.0 if inc == base.incoterm else norm.differential(t.material, t.stage, "incoterm", inc)
            if d_spec is not None and d_inc is not None:
                usd_t += d_spec + d_inc
                spec, inc = base.specification, base.incoterm
        rows.append(
            {
                "date": t.date,
                "material": t.material,
                "stage": t.stage,
                "specification": spec,
                "incoterm": inc,
                "reported_specification": t.specification,
                "reported_incoterm": t.incoterm,
                "volume_t": t.volume_t,
                "usd_per_t": usd_t,
                "reporter": t.reporter.casefold(),
                "buyer": t.buyer,
                "seller": t.seller,
            }
        )
    cols = ["date", "material", "stage", "specification", "incoterm", "reported_specification"]
    cols += ["reported_incoterm", "volume_t", "usd_per_t", "reporter", "buyer", "seller"]
    df = pd.DataFrame(rows, columns=cols)
    # a canonical order makes every downstream sum independent of the file's row order
    return df.sort_values(cols, kind="mergesort").reset_index(drop=True)


def _assess_group(g: pd.DataFrame, rules: AssessmentRules) -> tuple[dict[str, object], np.ndarray]:
    prices = g["usd_per_t"].to_numpy(float)
    vols = g["volume_t"].to_numpy(float)
    keep = robust_inliers(prices, rules.mad_k, rules.tolerance_floor)
    inc = g[keep]
    vol_by_rep = inc.groupby("reporter")["volume_t"].sum()
    total = float(inc["volume_t"].sum())
    n_rep = len(vol_by_rep)
    max_share = float(vol_by_rep.max() / total) if total > 0 else float("nan")
    out: dict[str, object] = {
        "volume_t": total,
        "count": int(keep.sum()),
        "reporters": n_rep,
        "max_reporter_share": max_share,
        "excluded_outliers": int((~keep).sum()),
    }
    reasons = []
    if n_rep < rules.min_reporters:
        reasons.append(
            f"{n_rep} independent reporter(s) after exclusions; at least {rules.min_reporters} needed"
        )
    if max_share > rules.max_reporter_share:
        top = str(vol_by_rep.idxmax())
        reasons.append(
            f"reporter {top!r} supplies {max_share:.0%} of volume; "
            f"at most {rules.max_reporter_share:.0%} allowed"
        )
    if reasons:
        out |= {"status": "insufficient data", "reason": "; ".join(reasons), "liquidity": "none"}
        out |= {k: float("nan") for k in ("price_usd_per_t", "band_low_usd_per_t", "band_high_usd_per_t")}
        return out, keep
    p, w = prices[keep], vols[keep]
    price = float(np.sum(p * w) / np.sum(w))
    liquid = out["count"] >= rules.liquid_min_count and n_rep >= rules.liquid_min_reporters  # type: ignore[operator]
    out |= {
        "status": "published",
        "reason": "",
        "price_usd_per_t": price,
        "band_low_usd_per_t": weighted_quantile(p, w, 0.25),
        "band_high_usd_per_t": weighted_quantile(p, w, 0.75),
        "liquidity": "liquid" if liquid else "thin",
    }
    return out, keep


def assess(
    txs: Sequence[Transaction],
    *,
    as_of: date,
    window_days: int = 30,
    fx: FxTable | None = None,
    normalisation: Normalisation | None = None,
    params: ParameterSet | None = None,
) -> Assessment:
    """Assess reference prices for every (material, stage, specification, incoterm) key in the window."""
    if window_days <= 0:
        raise ValueError(f"window_days: {window_days}; expected a positive number of days")
    params = params or ParameterSet()
    rules = AssessmentRules.from_parameters(params)
    start = as_of - timedelta(days=window_days)
    deals = normalised_deals(txs, fx or FxTable({}), normalisation or Normalisation(), start, as_of)
    keys = ["material", "stage", "specification", "incoterm"]
    records = []
    deals["included"] = False
    for key, g in deals.groupby(keys, sort=True):
        res, keep = _assess_group(g, rules)
        deals.loc[g.index, "included"] = keep
        records.append(dict(zip(keys, key, strict=True)) | res)
    prices = pd.DataFrame(
        records, columns=[c for c in RESULT_COLUMNS if c not in ("window_start", "window_end")]
    )
    prices["price_usd_per_kg"] = prices["price_usd_per_t"] / 1000.0
    prices["window_start"] = (start + timedelta(days=1)).isoformat()
    prices["window_end"] = as_of.isoformat()
    meta = RunMetadata(
        data_editions={"transactions": f"{len(txs)} reported deals", "fx": (fx or FxTable({})).source},
        parameters=params.used(REF_PARAMETERS) | {"window_days": window_days, "as_of": as_of.isoformat()},
        parameter_digest=params.digest(),
    )
    return Assessment(prices[RESULT_COLUMNS], deals, meta)
