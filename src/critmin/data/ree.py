"""Rare-earth elements as materials, derived at build time (see docs/methods/atlas.md, "Rare-earth elements").

Mine stage: element oxide e of country c in year y = REO(c, y) x s_c(e), where REO is the country's
rare-earth mine output (primary atlas row) and s_c the deposit mix of ``ree_deposit_weights.csv`` applied to
the published REO distributions of USGS Minerals Yearbook 2022 table 2 (each deposit's listed percentages
normalised to sum to 1; NA counts as 0, a bound such as ``<1.09`` as its bound). The elements of a country
therefore sum to its REO exactly.

Separation stage: element e separated in country s = sum over mine countries m of mine(e, m) x route(m -> s)
(``ree_separation_routes.csv``, by element group). Every row is flagged ``derived`` and names its inputs in
``value_text``. Years: every year with a primary REO mine row (1998-2015 from Theler et al., 2018-2025
from USGS); both tables give each row a ``from_year``-``to_year`` period (China's deposit mix follows the
published mining-quota split of its period, the US route the operator of Mountain Pass).
"""

from __future__ import annotations

import math
from importlib import resources
from importlib.resources.abc import Traversable
from io import StringIO
from typing import Any

import pandas as pd

from critmin.atlas.baskets import ELEMENTS
from critmin.data.history import MYB_T2_FILE

LIGHT: frozenset[str] = frozenset({"La", "Ce", "Pr", "Nd"})
WEIGHTS_FILE = "ree_deposit_weights.csv"
ROUTES_FILE = "ree_separation_routes.csv"
COMPOSITION_SOURCE = "USGS MYB2022 T2"


class ReeDataError(ValueError):
    """A rare-earth input outside the documented layout."""


Record = dict[str, Any]


def _csv(name: str) -> list[Record]:
    """A period table as records (``from_year``, ``to_year`` checked and made integers)."""
    text = resources.files("critmin.data").joinpath(name).read_text(encoding="utf-8")
    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    out: list[Record] = []
    for i, r in enumerate(df.to_dict("records")):
        a, b = str(r["from_year"]), str(r["to_year"])
        if not (a.isdigit() and b.isdigit() and int(a) <= int(b)):
            raise ReeDataError(f"{name} row {i + 2}, columns from_year/to_year: {a!r}-{b!r}; "
                               "expected two years, from <= to")  # fmt: skip
        out.append({**{str(k): v for k, v in r.items()}, "from_year": int(a), "to_year": int(b)})
    return out


def _of_year(table: list[Record], key: str, code: str, year: int, name: str) -> tuple[list[Record], str]:
    """The rows of ``code`` (else of ``*``) whose period covers ``year``, and a note. A year after (before)
    every listed period takes the latest (earliest) period's rows, noted ``carried`` in the row text (a new
    edition builds without edits); a year in a gap between two periods of the code is an error."""
    own = [r for r in table if r[key] == code] or [r for r in table if r[key] == "*"]
    rows = [r for r in own if r["from_year"] <= year <= r["to_year"]]
    if rows:
        return rows, ""
    periods = sorted({(r["from_year"], r["to_year"]) for r in own})
    if periods and year > max(b for _, b in periods):
        a, b = max(periods, key=lambda p: p[1])
    elif periods and year < min(a for a, _ in periods):
        a, b = min(periods)
    else:
        raise ReeDataError(f"{name}: no row for {key} {code!r} covers {year}; periods listed: {periods}")
    return [r for r in own if (r["from_year"], r["to_year"]) == (a, b)], f"{code} {a}-{b} carried to {year}"


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


def country_mix(
    comp: pd.DataFrame, iso3: str, year: int | None = None, weights: list[Record] | None = None
) -> tuple[pd.Series, str]:
    """Element shares of a country's REO in ``year`` (default ``options().default_year``) and the text naming
    the deposits and weights used."""
    if year is None:
        from critmin.options import options

        year = options().default_year
    table = weights if weights is not None else _csv(WEIGHTS_FILE)
    rows, note = _of_year(table, "iso3", iso3, year, WEIGHTS_FILE)
    w = pd.Series([float(r["weight"]) for r in rows], index=[str(r["location"]) for r in rows])
    missing = sorted(set(w.index) - set(comp.index))
    if missing:
        raise ReeDataError(f"{WEIGHTS_FILE}: locations {missing} are not in {MYB_T2_FILE}")
    w = w / w.sum()
    mix = comp.loc[w.index].mul(w, axis=0).sum()
    label = " + ".join(f"{v:.3f} {str(k).split(',')[0]}" for k, v in w.items())
    return mix, f"{label}; {note}" if note else label


def _group(symbol: str) -> str:
    return "light" if symbol in LIGHT else "heavy"


def _routes(
    table: list[Record], mine_iso3: str, symbol: str, year: int
) -> tuple[list[tuple[str, float]], str]:
    own, note = _of_year(table, "mine_iso3", mine_iso3, year, ROUTES_FILE)
    out = [
        (str(r["separation_iso3"]), float(r["share"]))
        for r in own
        if r["elements"] in ("all", _group(symbol))
    ]
    if not math.isclose(sum(v for _, v in out), 1.0, abs_tol=1e-9):
        raise ReeDataError(f"{ROUTES_FILE}: shares of {mine_iso3}/{symbol} in {year} sum to "
                           f"{sum(v for _, v in out)}; expected 1")  # fmt: skip
    return out, note


def _row(
    material: str, stage: str, iso3: str, year: int, tonnes: float, src: tuple[str, str], text: str
) -> dict[str, object]:
    return {"material": material, "stage": stage, "iso3": iso3, "year": year, "tonnes": tonnes,
            "flag": "derived", "source": src[0], "edition": src[1], "primary": False, "value_text": text,
            "unit_text": "metric tons", "basis": f"{material} oxide, share of REO (derived)"}  # fmt: skip


def derive_elements(raw: Traversable, production: pd.DataFrame) -> pd.DataFrame:
    """Mine and separation rows of every element in :data:`ELEMENTS` for every year with a primary REO
    mine row; each row keeps the source and edition of the REO row it comes from."""
    comp = compositions(raw)
    weights, routes = _csv(WEIGHTS_FILE), _csv(ROUTES_FILE)
    p = production[(production["material"] == "rare-earths") & (production["stage"] == "mine")]
    p = p[p["primary"].astype(bool)].dropna(subset=["tonnes"])
    rows: list[dict[str, object]] = []
    for r in p.itertuples(index=False):
        year = int(str(r.year))
        mix, label = country_mix(comp, str(r.iso3), year, weights)
        for sym, slug in ELEMENTS.items():
            text = (f"REO {r.iso3} {r.value_text} t ({r.edition}) x {sym} {mix[sym]:.5f} "
                    f"({COMPOSITION_SOURCE}: {label})")  # fmt: skip
            tonnes = float(str(r.tonnes)) * float(mix[sym])
            rows.append(_row(slug, "mine", str(r.iso3), year, tonnes, (str(r.source), str(r.edition)), text))
    return pd.DataFrame([*rows, *_separation(rows, routes)])


def _separation(mine: list[dict[str, object]], routes: list[Record]) -> list[dict[str, object]]:
    """Separation rows: each element's mine rows routed by :data:`ROUTES_FILE` (by year and group)."""
    sep: dict[tuple[str, str, int, str, str], list[tuple[str, float]]] = {}
    notes: dict[tuple[str, str, int, str, str], set[str]] = {}
    symbol = {v: k for k, v in ELEMENTS.items()}
    cache: dict[tuple[str, str, int], tuple[list[tuple[str, float]], str]] = {}
    for row in mine:
        material, iso3, year = str(row["material"]), str(row["iso3"]), int(str(row["year"]))
        ck = (iso3, _group(symbol[material]), year)  # one lookup per country, element group and year
        if ck not in cache:
            cache[ck] = _routes(routes, iso3, symbol[material], year)
        out, note = cache[ck]
        for s, share in out:
            key = (material, s, year, str(row["source"]), str(row["edition"]))
            sep.setdefault(key, []).append((iso3, share * float(str(row["tonnes"]))))
            notes.setdefault(key, set()).update([note] if note else [])
    rows = []
    for key, parts in sorted(sep.items()):
        material, s, year, source, edition = key
        total = sum(t for _, t in parts)
        names = " + ".join(f"{iso} {t:.4g}" for iso, t in parts)
        text = f"separation of mine output routed to {s} ({ROUTES_FILE}, {year}): {names}"
        text += "".join(f"; {n}" for n in sorted(notes[key]))
        rows.append(_row(material, "refine", s, year, total, (source, edition), text))
    return rows
