"""What the store accepts: text without NUL characters or lone surrogates, and physically plausible
numbers (the bounds are the ``service.csv`` parameters, documented in docs/methods/confidentiality.md and
the service guide)."""

from __future__ import annotations

import math
from datetime import date
from functools import cache
from typing import Any

FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2100, 12, 31)


def bad_text(value: str) -> str | None:
    """Why ``value`` cannot be stored (a NUL character or a lone surrogate), or ``None``."""
    if "\x00" in value:
        return "contains a NUL character (U+0000), which text columns cannot store"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate (U+{ord(value[exc.start]):04X}), which is not valid Unicode text"
    return None


@cache
def limit(name: str) -> float:
    """A bound of the ``service.csv`` parameters."""
    from critmin.parameters import ParameterSet

    return float(ParameterSet().get(name))


@cache
def currencies() -> frozenset[str]:
    """ISO 4217 alphabetic codes (pycountry)."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


def check_number(value: Any, bound_name: str, what: str) -> float:
    """A finite number within ``[0, limit(bound_name)]``; booleans are not numbers."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, not a boolean")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number")
    bound = limit(bound_name)
    if abs(x) > bound:
        raise ValueError(f"{what} {x:g} is beyond the plausible bound {bound:g} ({bound_name})")
    return x


def numbers_beyond(obj: Any, bound: float, path: str = "") -> str | None:
    """The path of the first number in ``obj`` (nested dicts and lists) that is not finite or above
    ``bound`` in magnitude, or ``None``."""
    if isinstance(obj, bool):
        return None
    if isinstance(obj, int | float):
        return path or "(value)" if not math.isfinite(obj) or abs(obj) > bound else None
    if isinstance(obj, dict):
        items: Any = obj.items()
    elif isinstance(obj, list | tuple):
        items = enumerate(obj)
    else:
        return None
    for k, v in items:
        found = numbers_beyond(v, bound, f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None
