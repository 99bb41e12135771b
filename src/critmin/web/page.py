"""What a dashboard page is: ordered blocks (a chart or a table), each backed by one downloadable frame.

A page builder is a function ``(params) -> Page``. The HTML view and the CSV download of a block call the
same builder with the same parameters, so a CSV always holds exactly the data the block shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

STATIC_PATH = "/assets"  # where the dashboard serves its static files


class PageError(ValueError):
    """A request the page cannot answer (unknown material, bad parameter); ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Block:
    """One chart or table. ``frame`` is what the CSV link returns; ``figure`` (a Plotly figure as a dict)
    makes the block a chart drawn from that frame, otherwise the frame is shown as a sortable table.
    ``links`` maps a column to a URL pattern (``{}`` = the cell value) to make its cells links."""

    key: str
    title: str
    frame: pd.DataFrame
    figure: dict[str, Any] | None = None
    caption: str = ""
    wide: bool = False
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """A rendered-page model: title, blocks in display order, the data editions it rests on."""

    name: str
    title: str
    blocks: list[Block]
    editions: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    intro: str = ""
    notes: list[str] = field(default_factory=list)
    template: str = "page.html"
    context: dict[str, Any] = field(default_factory=dict)
    csv_base: str = "/download.csv"

    def block(self, key: str) -> Block:
        """The block called ``key``; :class:`PageError` (404) if the page has none."""
        for b in self.blocks:
            if b.key == key:
                return b
        raise PageError(
            f"page {self.name!r} has no table {key!r}; expected one of {[b.key for b in self.blocks]}"
        )


Builder = Callable[[Mapping[str, str]], Page]


def require(params: Mapping[str, str], name: str, choices: list[str], default: str | None = None) -> str:
    """A parameter that must be one of ``choices`` (:class:`PageError` 422 names the value and choices)."""
    value = params.get(name, default)
    if value is None or value not in choices:
        raise PageError(f"parameter {name}={value!r} is not valid; expected one of {choices}", status=422)
    return value


def int_param(params: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    """An integer parameter within ``[lo, hi]`` (:class:`PageError` 422 otherwise)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise PageError(
            f"parameter {name}={raw!r} is not an integer; expected {lo}..{hi}", status=422
        ) from None
    if not lo <= value <= hi:
        raise PageError(f"parameter {name}={value} is out of range; expected {lo}..{hi}", status=422)
    return value
