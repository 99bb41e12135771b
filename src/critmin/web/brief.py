"""PDF briefs, generated on the server with fpdf2 from the same page models as the HTML pages.

A brief holds the page's message (its lead sentences), its key tables, a bar chart of each stage's
largest producers (drawn as vector rectangles, no image library needed), the data editions and the
version and time it was made. The text uses fpdf2's core Helvetica font (Latin-1): a character outside
it is replaced by ``?``, never dropped silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from fpdf import FPDF

import critmin
from critmin.web.page import Page

BAR_ROWS = 8
WIDTH_MM = 180.0


def _latin1(text: Any) -> str:
    value = str(text).replace("–", "-").replace("—", "-").replace("→", "->").replace("’", "'")
    return value.encode("latin-1", "replace").decode("latin-1")


def _table(pdf: FPDF, frame: pd.DataFrame, max_rows: int = 15) -> None:
    cols = list(frame.columns)
    width = WIDTH_MM / max(len(cols), 1)
    pdf.set_font("Helvetica", "B", 7)
    for c in cols:
        pdf.cell(width, 5, _latin1(c)[:40], border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in frame.head(max_rows).itertuples(index=False):
        for v in row:
            text = f"{v:,.4g}" if isinstance(v, float) else str(v)
            pdf.cell(width, 5, _latin1(text)[:48], border=1)
        pdf.ln()
    if len(frame) > max_rows:
        pdf.set_font("Helvetica", "I", 7)
        pdf.cell(
            0,
            5,
            _latin1(f"{len(frame) - max_rows} more rows in the CSV download."),
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _bars(pdf: FPDF, title: str, labels: list[str], values: list[float], unit: str) -> None:
    """Horizontal bars of ``values`` (largest first), each labelled with its rounded value."""
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 6, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    top = max(values) if values else 0.0
    pdf.set_font("Helvetica", "", 7)
    for label, value in zip(labels, values, strict=True):
        x, y = pdf.get_x(), pdf.get_y()
        pdf.cell(45, 5, _latin1(label)[:30])
        length = 110.0 * value / top if top > 0 else 0.0
        pdf.set_fill_color(31, 95, 168)
        pdf.rect(x + 46, y + 1, max(length, 0.2), 3, style="F")
        pdf.set_xy(x + 48 + length, y)
        pdf.cell(25, 5, _latin1(f"{value:,.4g} {unit}"))
        pdf.ln()


def material_brief(page: Page) -> bytes:
    """The PDF brief of a material page model (:func:`critmin.web.material.material_page`)."""
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 7, _latin1(f"critmin brief: {page.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in page.context.get("lead", []):
        pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    keys = [b.key for b in page.blocks]
    if "key-facts" in keys:
        _table(pdf, page.block("key-facts").frame)
        pdf.ln(3)
    for block in page.blocks:
        if not block.key.startswith("production-"):
            continue
        shown = block.frame.dropna(subset=["tonnes"]).head(BAR_ROWS)
        _bars(pdf, block.title, [str(c) for c in shown["country"]], [float(t) for t in shown["tonnes"]], "t")
        pdf.ln(2)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 6, "Sources and data editions", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7)
    for key, text in page.editions.items():
        pdf.multi_cell(0, 4, _latin1(f"{key}: {text}"), new_x="LMARGIN", new_y="NEXT")
    for note in page.notes:
        pdf.multi_cell(0, 4, _latin1(f"Note: {note}"), new_x="LMARGIN", new_y="NEXT")
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pdf.ln(2)
    pdf.multi_cell(0, 4, _latin1(f"Made by critmin {critmin.__version__} on {made}; every number is in the "
                                 "page's CSV downloads."), new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    return bytes(pdf.output())
