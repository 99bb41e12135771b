"""Country identifiers: every source's spelling mapped to ISO 3166 alpha-3 through one explicit table.

Resolution order for a name from a source:
1. the explicit alias table ``data/country_aliases.csv`` (source-specific row first, then any source);
2. an exact ISO 3166 alpha-3, alpha-2, name, official name or common name (pycountry, no fuzzy matching).

A name that neither step resolves raises :class:`UnmappedCountryError`; nothing is dropped silently.
USGS qualifiers in parentheses (``Brazil (beneficiated)``) are split off and returned as ``qualifier``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Kind = Literal["country", "combined", "other", "world", "former", "aggregate"]

OTHER = "OTH"
WORLD = "WLD"

_QUALIFIER = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<qual>[^()]*)\)\s*(?:\d+)?$")
_WORLD_PREFIX = re.compile(r"^world total\b", re.IGNORECASE)
_OTHER_PREFIX = re.compile(r"^other countries\b", re.IGNORECASE)


class UnmappedCountryError(ValueError):
    """A country name that no alias and no ISO entry resolves."""


@dataclass(frozen=True)
class CountryRef:
    """A resolved country name: ``code`` is ISO3 (or OTH/WLD, or ``A+B`` for combined rows)."""

    code: str
    kind: Kind
    qualifier: str = ""

    @property
    def members(self) -> tuple[str, ...]:
        """ISO3 codes a combined row covers (one code for a plain country)."""
        return tuple(self.code.split("+"))


@dataclass(frozen=True)
class _Alias:
    code: str
    kind: Kind


@cache
def alias_table() -> dict[tuple[str, str], _Alias]:
    """The explicit alias table keyed by (source, alias)."""
    text = resources.files("critmin.data").joinpath("country_aliases.csv").read_text(encoding="utf-8")
    out: dict[tuple[str, str], _Alias] = {}
    for row in csv.DictReader(text.splitlines()):
        out[(row["source"], row["alias"])] = _Alias(row["code"], row["kind"])  # type: ignore[arg-type]
    return out


def _iso_exact(name: str) -> str | None:
    import pycountry  # here: the ISO database loads only when a name is looked up

    name = name.strip()
    if len(name) == 3 and name.isupper():
        c = pycountry.countries.get(alpha_3=name)
        return str(c.alpha_3) if c else None
    if len(name) == 2 and name.isupper():
        c = pycountry.countries.get(alpha_2=name)
        return str(c.alpha_3) if c else None
    low = name.casefold()
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if v is not None and v.casefold() == low:
                return str(c.alpha_3)
    return None


def _lookup(name: str, source: str) -> _Alias | None:
    table = alias_table()
    hit = table.get((source, name))
    if hit is None:
        hit = next((a for (_, alias), a in table.items() if alias == name), None)
    if hit is not None:
        return hit
    iso = _iso_exact(name)
    return _Alias(iso, "country") if iso else None


@cache
def resolve(name: str, source: str = "any") -> CountryRef:
    """Map a source's country spelling to a :class:`CountryRef`, or raise :class:`UnmappedCountryError`."""
    raw = name.replace("\xa0", " ").strip()
    if _WORLD_PREFIX.match(raw) or raw == "Total":
        return CountryRef(WORLD, "world", raw)
    if _OTHER_PREFIX.match(raw) or raw == "Rest of world":
        return CountryRef(OTHER, "other", raw)
    hit = _lookup(raw, source)
    qualifier = ""
    if hit is None:
        m = _QUALIFIER.match(raw)
        if m:
            qualifier = m.group("qual").strip()
            hit = _lookup(m.group("name").strip(), source)
    if hit is None:
        raise UnmappedCountryError(
            f"country {name!r} from source {source!r} is not in the alias table "
            "(critmin/data/country_aliases.csv) and is not an exact ISO 3166 name or code; "
            "expected a mapped spelling"
        )
    return CountryRef(hit.code, hit.kind, qualifier)


def to_iso3(name: str, source: str = "any") -> str:
    """ISO3 code of a single country; raises for unmapped names and for world/other/combined rows."""
    ref = resolve(name, source)
    if ref.kind != "country":
        raise UnmappedCountryError(f"{name!r} ({source}) is a {ref.kind} row ({ref.code}), not one country")
    return ref.code


def country_name(iso3: str) -> str:
    """Display name for an ISO3 code (falls back to the code itself for non-ISO codes)."""
    import pycountry

    c = pycountry.countries.get(alpha_3=iso3)
    if c is None:
        return {"XKX": "Kosovo", OTHER: "Other countries", WORLD: "World"}.get(iso3, iso3)
    return str(getattr(c, "common_name", None) or c.name)
