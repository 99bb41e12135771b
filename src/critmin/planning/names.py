"""Checks of user-given material slugs, stages and ISO3 member codes, with close-name suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def check_material(material: str, known: Sequence[str]) -> None:
    """Raise a ValueError naming close slugs when ``material`` is not an atlas material."""
    if material in known:
        return
    close = difflib.get_close_matches(material, list(known), n=3, cutoff=0.7)
    hint = (
        f"; did you mean {', '.join(close)}?" if close else f"; known materials: {', '.join(sorted(known))}"
    )
    raise ValueError(f"unknown material {material!r}{hint}")


def check_stage(material: str, stage: str, stages: Sequence[str]) -> None:
    """Raise a ValueError when the atlas has no data for ``material`` at ``stage``."""
    if stage not in stages:
        raise ValueError(
            f"the atlas has no production for material {material!r} at stage {stage!r}; "
            f"stages with data: {', '.join(stages) or 'none'}"
        )


def check_members(members: Sequence[str]) -> list[str]:
    """Upper-cased ISO 3166 alpha-3 codes; a ValueError naming every code that is not one."""
    import pycountry

    codes = [m.strip().upper() for m in members if m.strip()]
    if not codes:
        raise ValueError("expected at least one ISO3 member code, e.g. USA,JPN")
    bad = [c for c in codes if len(c) != 3 or pycountry.countries.get(alpha_3=c) is None]
    if bad:
        raise ValueError(
            f"unknown ISO3 member code(s) {', '.join(bad)}; expected ISO 3166 alpha-3 codes such as USA, JPN"
        )
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise ValueError(f"member code(s) {', '.join(dup)} repeated; expected each member once")
    return codes
