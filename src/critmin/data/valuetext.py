"""Parse the value text of USGS Mineral Commodity Summaries cells exactly as published.

=============================  ==================  ======================================================
published text                 ``flag``            ``value`` (``low``/``high`` when a bound or range)
=============================  ==================  ======================================================
``1,234`` ``0.5`` ``-3``        ``number``          the number (thousands separators removed)
``—`` (em dash) ``-``          ``zero``            0.0
``W``                          ``withheld``        NaN (withheld to avoid disclosing company data)
``NA``                         ``not_available``   NaN
``XX``                         ``not_applicable``  NaN
``E``                          ``net_exporter``    NaN (net-import-reliance rows only)
``s``                          ``below_half_unit`` NaN, high = 0.5 (less than half the unit)
``>50`` ``<25``                 ``bound``           NaN, low (``>``) or high (``<``) set
``?10``                        ``garbled``         NaN: a character lost in USGS's cp1252 export (likely
                                                   the minus sign U+2212; only in stockpile shipments)
``50–300`` ``330 - 390``       ``range``           NaN, low and high set (no midpoint is invented)
``Large`` ``Small`` ...        ``qualitative``     NaN
empty                          ``empty``           NaN
=============================  ==================  ======================================================

Anything else raises :class:`ValueTextError`: new notation must be handled on purpose, not guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_BOUND = re.compile(r"^(?P<op>[<>])\s*(?P<num>[\d,]+(?:\.\d+)?)$")
_RANGE = re.compile(r"^(?P<lo>[\d,]+(?:\.\d+)?)\s*[–—-]\s*(?P<hi>[\d,]+(?:\.\d+)?)$")
_QUALITATIVE = {
    "large",
    "small",
    "moderate",
    "moderate to large",
    "very small",
    "variable, depending on type of product",
    "variable, depending on size, type, and quality",
}
_CODES = {
    "W": "withheld",
    "NA": "not_available",
    "XX": "not_applicable",
    "E": "net_exporter",
}
_ZERO = {"—", "–", "-", "--"}


class ValueTextError(ValueError):
    """A value text none of the documented notations matches."""


@dataclass(frozen=True)
class ParsedValue:
    """A parsed published value: ``value`` is NaN unless the text is a number or a zero dash."""

    text: str
    flag: str
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan

    @property
    def is_number(self) -> bool:
        """True when the text carries a usable number (a plain number or the zero dash)."""
        return self.flag in ("number", "zero")


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def parse_value_text(text: str) -> ParsedValue:
    """Parse one published value text (see the module table); raise :class:`ValueTextError` otherwise."""
    raw = text
    t = text.replace("\xa0", " ").strip()
    if t == "":
        return ParsedValue(raw, "empty")
    if _NUMBER.match(t):
        v = _num(t)
        return ParsedValue(raw, "number", v, v, v)
    if t in _ZERO:
        return ParsedValue(raw, "zero", 0.0, 0.0, 0.0)
    if t in _CODES:
        return ParsedValue(raw, _CODES[t])
    if t == "s":
        return ParsedValue(raw, "below_half_unit", low=0.0, high=0.5)
    m = _BOUND.match(t)
    if m:
        v = _num(m.group("num"))
        op = m.group("op")
        if op == ">":
            return ParsedValue(raw, "bound", low=v)
        return ParsedValue(raw, "bound", high=v)
    if re.match(r"^\?[\d,]+(?:\.\d+)?$", t):
        return ParsedValue(raw, "garbled")
    m = _RANGE.match(t)
    if m:
        lo, hi = _num(m.group("lo")), _num(m.group("hi"))
        if lo > hi:
            raise ValueTextError(f"value text {raw!r}: range with low > high; expected 'low–high'")
        return ParsedValue(raw, "range", low=lo, high=hi)
    if t.casefold() in _QUALITATIVE:
        return ParsedValue(raw, "qualitative")
    raise ValueTextError(
        f"value text {raw!r} is not a documented USGS notation; expected a number, '—', W, NA, XX, E, s, "
        "'>n', '<n', a range 'a–b' or a qualitative word such as Large/Small"
    )


def rounding_unit(text: str) -> float:
    """The rounding unit of a published number: 10**k for k trailing zeros of an integer (``380,000``
    -> 10,000; ``302,000`` -> 1,000; ``45`` -> 1), 10**-d for d decimals (``0.25`` -> 0.01)."""
    t = text.replace(",", "").replace("\xa0", "").strip().lstrip("+-")
    if not _NUMBER.match(t):
        raise ValueTextError(f"value text {text!r}: rounding unit asked of a non-number")
    if "." in t:
        return 10.0 ** -len(t.split(".")[1])
    stripped = t.rstrip("0")
    if stripped == "":
        return 1.0
    return 10.0 ** (len(t) - len(stripped))
