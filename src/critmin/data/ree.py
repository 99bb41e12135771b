"""Rare-earth elements as materials, derived at build time (see docs/methods/atlas.md, "Rare-earth elements").

Mine stage: element oxide e of country c in year y = REO(c, y) x s_c(e), where REO is the country's
rare-earth mine output (primary atlas row) and s_c the deposit mix of ``ree_deposit_weights.csv`` applied to
the published REO distributions of USGS Minerals Yearbook 2022 table 2 (each deposit's listed percentages
normalised to sum to 1; NA counts as 0, a bound such as ``<1.09`` as its bound). The elements of a country
therefore sum to its REO exactly.

Separation stage: element e separated in country s = sum over mine countries m of mine(e, m) x route(m -> s)
(``ree_separation_routes.csv``, by element group). Every row is flagged ``derived`` and names its inputs in
``value_text``. Years: those of :data:`REE_YEARS` (the deposit mix is the 2024 quota split).
"""

from __future__ import annotations

import math
from importlib import resources
from importlib.resources.abc import Traversable
from io import StringIO

import pandas as pd

from critmin.atlas.baskets import ELEMENTS
from critmin.data.history import MYB_T2_FILE

LIGHT: frozenset[str] = frozenset({"La", "Ce", "Pr", "Nd"})
REE_YEARS: tuple[int, ...] = (2024, 2025)
COMPOSITION_SOURCE = "USGS MYB2022 T2"


class ReeDataError(ValueError):
    """A rare-earth input outside the documented layout."""


def _csv(name: str) -> pd.DataFrame:
    text = resources.files("critmin.data").joinpath(name).read_text(encoding="utf-8")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def compositions(raw: Traversable) -> pd.DataFrame:
    """Normalised REO distribution per deposit: index location, columns element symbols (sum 1 per row)."""
    t = pd.read_csv(StringIO(raw.joinpath(MYB_T2_FILE).read_text(encoding="utf-8")), dtype=str,
                    keep_default_na=False)  # fmt: skip
    vals = []
    for i, r in t.iterrows():
        text = r["pct_of_total_reo_text"].strip().lstrip("<")
        if text == "NA":
            v = 0.0
        else:
            try:
                v = float(text)
            except ValueError as exc:
                raise ReeDataError(
                    f"{MYB_T2_FILE} row {int(str(i)) + 2}: {text!r}; expected a percentage"
                ) from exc
        vals.append(v)
    t = t.assign(v=vals)
    wide = t.pivot_table(index="location", columns="element", values="v", aggfunc="first").fillna(0.0)
    wide = wide.reindex(columns=list(ELEMENTS), fill_value=0.0)
    return wide.div(wide.sum(axis=1), axis=0)


def country_mix(comp: pd.DataFrame, iso3: str) -> tuple[pd.Series, str]:
    """Element shares of a country's REO and the text naming the deposits and weights used."""
    w = _csv("ree_deposit_weights.csv")
    rows = w[w["iso3"] == iso3]
    if rows.empty:
        rows = w[w["iso3"] == "*"]
    weights = pd.Series(rows["weight"].astype(float).to_numpy(), index=rows["location"].to_numpy())
    missing = sorted(set(weights.index) - set(comp.index))
    if missing:
        raise ReeDataError(f"ree_deposit_weights.csv: locations {missing} are not in {MYB_T2_FILE}")
    weights = weights / weights.sum()
    mix = comp.loc[weights.index].mul(weights, axis=0).sum()
    label = " + ".join(f"{v:.3f} {str(k).split(',')[0]}" for k, v in weights.items())
    return mix, label


def _group(symbol: str) -> str:
    return "light" if symbol in LIGHT else "heavy"


def _routes(mine_iso3: str, symbol: str) -> list[tuple[str, float]]:
    r = _csv("ree_separation_routes.csv")
    own = r[(r["mine_iso3"] == mine_iso3)]
    if own.empty:
        own = r[r["mine_iso3"] == "*"]
    own = own[own["elements"].isin(["all", _group(symbol)])]
    out = [(str(s), float(v)) for s, v in zip(own["separation_iso3"], own["share"], strict=True)]
    if not math.isclose(sum(v for _, v in out), 1.0, abs_tol=1e-9):
        raise ReeDataError(f"ree_separation_routes.csv: shares of {mine_iso3}/{symbol} sum to "
                           f"{sum(v for _, v in out)}; expected 1")  # fmt: skip
    return out


def _row(
    material: str, stage: str, iso3: str, year: int, tonnes: float, edition: str, text: str
) -> dict[str, object]:
    return {"material": material, "stage": stage, "iso3": iso3, "year": year, "tonnes": tonnes,
            "flag": "derived", "source": "usgs", "edition": edition, "primary": False, "value_text": text,
            "unit_text": "metric tons", "basis": f"{material} oxide, share of REO (derived)"}  # fmt: skip


def derive_elements(raw: Traversable, production: pd.DataFrame) -> pd.DataFrame:
    """Mine and separation rows of every element in :data:`ELEMENTS` for :data:`REE_YEARS`."""
    comp = compositions(raw)
    p = production[(production["material"] == "rare-earths") & (production["stage"] == "mine")]
    p = p[p["primary"].astype(bool) & p["year"].isin(REE_YEARS)].dropna(subset=["tonnes"])
    rows: list[dict[str, object]] = []
    for r in p.itertuples(index=False):
        mix, label = country_mix(comp, str(r.iso3))
        for sym, slug in ELEMENTS.items():
            text = (f"REO {r.iso3} {r.value_text} t ({r.edition}) x {sym} {mix[sym]:.5f} "
                    f"({COMPOSITION_SOURCE}: {label})")  # fmt: skip
            tonnes = float(str(r.tonnes)) * float(mix[sym])
            rows.append(_row(slug, "mine", str(r.iso3), int(str(r.year)), tonnes, str(r.edition), text))
    sep: dict[tuple[str, str, int, str], list[tuple[str, float]]] = {}
    symbol = {v: k for k, v in ELEMENTS.items()}
    for row in rows:
        material, iso3, year = str(row["material"]), str(row["iso3"]), int(str(row["year"]))
        for s, share in _routes(iso3, symbol[material]):
            key = (material, s, year, str(row["edition"]))
            sep.setdefault(key, []).append((iso3, share * float(str(row["tonnes"]))))
    out = []
    for (material, s, year, edition), parts in sorted(sep.items()):
        total = sum(t for _, t in parts)
        names = " + ".join(f"{iso} {t:.4g}" for iso, t in parts)
        text = f"separation of mine output routed to {s} (ree_separation_routes.csv): {names}"
        out.append(_row(material, "refine", s, year, total, edition, text))
    return pd.DataFrame([*rows, *out])
