"""HTML rendering: the Jinja2 environment, number formatting and the embedding of figures as JSON."""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any
from urllib.parse import urlencode

import jinja2
import pandas as pd

from critmin.web.page import STATIC_PATH, Page, PageError
from critmin.web.security import csrf_field, current_path, viewer

# (path, label) of the navigation bar, in order; only pages that are registered appear
NAV: list[tuple[str, str, str]] = [
    ("overview", "/", "Overview"),
    ("material", "/materials", "Materials"),
    ("scenarios", "/scenarios", "Scenario lab"),
    ("reserve", "/reserve", "Reserve"),
    ("prices", "/prices", "Prices"),
    ("plan", "/plan", "Investment plan"),
    ("risk", "/risk", "Risk"),
    ("stake", "/stake", "Stake"),
    ("members", "/members", "Members"),
]


def fmt(value: Any) -> str:
    """Display text of a table cell: NaN is a gap (``–``), shares and large numbers are readable."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if value == 0:
            return "0"
        if value.is_integer() and abs(value) < 1e5:
            return str(int(value))  # a year read as float stays "2026"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}" if abs(value) >= 1 else f"{value:.3g}"
    try:
        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    return str(value)


def money(usd: float) -> str:
    """USD amounts for the page's text: ``USD 11.67 bn``, ``USD 682 m``, ``USD 5,300``; signed when < 0."""
    if not math.isfinite(usd):
        return "–"
    sign, a = ("-" if usd < 0 else ""), abs(usd)
    if a >= 1e9:
        return f"{sign}USD {a / 1e9:,.2f} bn"
    if a >= 1e6:
        return f"{sign}USD {a / 1e6:,.0f} m"
    return f"{sign}USD {a:,.0f}"


def sort_key(value: Any) -> str:
    """The ``data-sort`` attribute of a cell: numbers as plain text, gaps empty (sorted last)."""
    if value is None:
        return ""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return repr(float(value)) if math.isfinite(float(value)) else ""
    return str(value)


def rows(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows of ``frame`` as Python values (numpy scalars unwrapped)."""
    return [[v.item() if hasattr(v, "item") else v for v in row] for row in frame.itertuples(index=False)]


def is_numeric(frame: pd.DataFrame, column: str) -> bool:
    """Whether a column is numeric (right-aligned, sorted as numbers)."""
    return bool(pd.api.types.is_numeric_dtype(frame[column])) and not pd.api.types.is_bool_dtype(
        frame[column]
    )


def figure_json(figure: dict[str, Any]) -> str:
    """Figure JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(figure, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def csv_url(page: Page, key: str) -> str:
    """Download link of one block of ``page`` (same parameters as the page)."""
    query = urlencode([("page", page.name), ("block", key), *sorted(page.params.items())])
    return f"{page.csv_base}?{query}"


def data_csv_href(frame: pd.DataFrame) -> str:
    """A ``data:`` URL holding ``frame`` as CSV, for a table computed from an upload (not re-servable)."""
    from urllib.parse import quote

    return "data:text/csv;charset=utf-8," + quote(frame.to_csv(index=False, lineterminator="\n"))


@cache
def environment() -> jinja2.Environment:
    """The dashboard's Jinja2 environment (templates from ``critmin.web/templates``, autoescaped)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("critmin.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = fmt
    env.globals.update(
        static=STATIC_PATH,
        sort_key=sort_key,
        rows=rows,
        is_numeric=is_numeric,
        figure_json=figure_json,
        csv_url=csv_url,
        data_csv_href=data_csv_href,
        csrf_field=csrf_field,
        viewer=viewer,
        current_path=current_path,
        quote=lambda v: __import__("urllib.parse").parse.quote(str(v), safe=""),
    )
    return env


def csv_response(frame: pd.DataFrame, name: str) -> Any:
    """``frame`` as a CSV download named after its content (``<name>.csv``, unsafe characters dropped)."""
    import re

    from fastapi.responses import Response

    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "table"
    headers = {"Content-Disposition": f'attachment; filename="{safe}.csv"'}
    return Response(frame.to_csv(index=False, lineterminator="\n"), media_type="text/csv; charset=utf-8",
                    headers=headers)  # fmt: skip


def block_csv(page: Page, block: str, name: str) -> Any:
    """The page's block ``block`` as a CSV download named ``name``; an unknown block is a plain-text
    error with the page's status."""
    from fastapi.responses import Response

    try:
        frame = page.block(block).frame
    except PageError as err:
        return Response(f"{err}\n", err.status, media_type="text/plain")
    return csv_response(frame, name)


def render_page(page: Page, nav: list[tuple[str, str, str]], user: str = "") -> str:
    """HTML of a page model."""
    return environment().get_template(page.template).render(page=page, nav=nav, user=user, **page.context)


def render_error(message: str, status: int, nav: list[tuple[str, str, str]]) -> str:
    """HTML of an error page naming what was wrong."""
    return environment().get_template("error.html").render(message=message, status=status, nav=nav, user="")
