"""PDF briefs, generated on the server with fpdf2 from the same page models as the HTML pages.

A brief holds the page's message (its lead sentences), its key tables (each cell written as the page
writes it), bar charts (drawn as vector rectangles, no image library needed), the data editions and the
version and time it was made: the material brief (largest producers per stage), the scenario brief (peak
price, ban window, loss parts, largest shortfalls) and the reserve brief (the plan beside the day rules,
holdings, finances by year). The text uses fpdf2's core Helvetica font (Latin-1): a character outside
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


def _cell(pdf: FPDF, width: float, text: str, style: str) -> None:
    """One bordered table cell; the font shrinks (7 pt down to 4 pt) until the text fits its width."""
    value = _latin1(text)[:60]
    size = 7.0
    pdf.set_font("Helvetica", style, size)
    while size > 4 and pdf.get_string_width(value) > width - 1:
        size -= 0.5
        pdf.set_font("Helvetica", style, size)
    pdf.cell(width, 5, value, border=1)


def _table(pdf: FPDF, frame: pd.DataFrame, max_rows: int = 15) -> None:
    """``frame`` as a table, each cell written as the HTML page writes it (:func:`critmin.web.render.fmt`);
    the first column twice as wide as the others."""
    from critmin.web.render import fmt

    cols = list(frame.columns)
    width = WIDTH_MM / (len(cols) + 1)
    widths = [2 * width, *[width] * (len(cols) - 1)]
    for c, w in zip(cols, widths, strict=True):
        _cell(pdf, w, str(c), "B")
    pdf.ln()
    for row in frame.head(max_rows).itertuples(index=False):
        for v, w in zip(row, widths, strict=True):
            _cell(pdf, w, fmt(v.item() if hasattr(v, "item") else v), "")
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


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 9)
    pdf.multi_cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")


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


def _start(page: Page) -> FPDF:
    """A new A4 brief with the page's title and its message (the lead sentences)."""
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 7, _latin1(f"critmin brief: {page.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in page.context.get("lead", []):
        pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    if page.intro:
        pdf.set_font("Helvetica", "I", 8)
        pdf.multi_cell(0, 4, _latin1(page.intro), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    return pdf


def _finish(pdf: FPDF, page: Page) -> bytes:
    """The sources and data editions, the notes, the version and time; the PDF's bytes."""
    _heading(pdf, "Sources and data editions")
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


def material_brief(page: Page) -> bytes:
    """The PDF brief of a material page model (:func:`critmin.web.material.material_page`)."""
    pdf = _start(page)
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
    return _finish(pdf, page)


SCENARIO_TABLES = ("summary", "inputs")


def scenario_brief(page: Page) -> bytes:
    """The PDF brief of a finished scenario (the ``simulate`` job's page, :func:`critmin.web.scenarios.
    job_page`): its message, peak price, ban window and loss parts per material, the scenario as run, the
    members with the largest shortfall and the loss by sector."""
    pdf = _start(page)
    for key in SCENARIO_TABLES:
        block = page.block(key)
        _heading(pdf, block.title)
        _table(pdf, block.frame)
        pdf.ln(3)
    members = page.block("members").frame.head(BAR_ROWS)
    if len(members):
        label = [f"{m} ({c})" for m, c in zip(members["member"], members["material"], strict=True)]
        _bars(pdf, page.block("members").title, label, [float(v) for v in members["shortfall_t"]], "t")
    else:
        _heading(
            pdf, "No member is left short of supply in this scenario (stocks and spare capacity cover it)."
        )
    pdf.ln(2)
    sectors = page.block("sectors").frame.sort_values("loss_usd", ascending=False).head(BAR_ROWS)
    if len(sectors):
        label = [f"{s} ({m})" for s, m in zip(sectors["sector"], sectors["material"], strict=True)]
        _bars(pdf, page.block("sectors").title, label, [float(v) for v in sectors["loss_usd"]], "USD")
        pdf.ln(2)
    return _finish(pdf, page)


RESERVE_FINANCE_COLUMNS = ["year", "cash_p50_usd", "equity_p5_usd", "equity_p50_usd", "equity_p95_usd",
                           "debt_usd", "p_missed"]  # fmt: skip


def reserve_brief(page: Page) -> bytes:
    """The PDF brief of a finished reserve plan (:func:`critmin.web.reserve.sizing_page`): its message
    (spend, loss avoided, net benefit, against each day rule, the finances), the plans beside the rules,
    the holdings by cost, why this much, and the finances by year with their P5-P95 band."""
    pdf = _start(page)
    _heading(pdf, page.block("comparison").title)
    _table(pdf, page.block("comparison").frame)
    pdf.ln(3)
    held = page.block("optimised").frame.sort_values("cost_usd", ascending=False)
    if len(held):
        top = held.head(BAR_ROWS)
        _bars(pdf, "Optimised holdings by cost (largest first)", [str(m) for m in top["material"]],
              [float(v) for v in top["cost_usd"]], "USD")  # fmt: skip
        pdf.ln(2)
    _heading(pdf, page.block("optimised").title)
    _table(pdf, held)
    pdf.ln(3)
    if any(b.key == "finances" for b in page.blocks):
        block = page.block("finances")
        _heading(pdf, block.title)
        _table(pdf, block.frame[RESERVE_FINANCE_COLUMNS], max_rows=len(block.frame))
        pdf.set_font("Helvetica", "I", 7)
        pdf.multi_cell(0, 4, _latin1(block.caption), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return _finish(pdf, page)
