"""Rendering helpers: cell formatting, sort keys, safe figure embedding, CSV links."""

from __future__ import annotations

import json
import math

import pandas as pd

from critmin.web import figures
from critmin.web.page import Block, Page
from critmin.web.render import csv_url, figure_json, fmt, sort_key


def test_fmt_keeps_gaps_and_reads_numbers() -> None:
    assert fmt(float("nan")) == "–"
    assert fmt(None) == "–"
    assert fmt(pd.NA) == "–"
    assert fmt(0.98765) == "0.988"
    assert fmt(1234567.8) == "1,234,568"
    assert fmt(2024) == "2024"
    assert fmt(2026.0) == "2026"  # a year read as float is not "2,026"
    assert fmt(1234.5) == "1,234"
    assert fmt(12346.2) == "12,346"  # no exponent notation in tables
    assert fmt(647.21) == "647.2"
    assert fmt(True) == "yes"
    assert fmt("CHN") == "CHN"


def test_sort_key_orders_numbers_and_leaves_gaps_empty() -> None:
    assert sort_key(float("nan")) == ""
    assert float(sort_key(10)) == 10.0
    assert sort_key("x") == "x"


def test_figure_json_cannot_close_the_script_element() -> None:
    fig = {"data": [{"type": "bar", "name": "</script><script>alert(1)</script>"}], "layout": {}}
    text = figure_json(fig)
    assert "</script>" not in text
    assert json.loads(text) == fig


def test_figures_turn_nan_into_gaps() -> None:
    frame = pd.DataFrame({"iso3": ["CHN", "USA"], "share": [0.9, math.nan]})
    fig = figures.choropleth(frame, "iso3", "share", "t", "share")
    assert fig["data"][0]["z"] == [0.9, None]
    assert fig["data"][0]["locationmode"] == "ISO-3"
    json.dumps(fig, allow_nan=False)


def test_csv_url_carries_page_parameters() -> None:
    page = Page(
        "material", "T", [Block("a", "A", pd.DataFrame())], {}, params={"year": "2024", "material": "x y"}
    )
    assert csv_url(page, "a") == "/download.csv?page=material&block=a&material=x+y&year=2024"


def test_legend_labels_drop_a_long_shared_prefix() -> None:
    head = (
        "GRAPHITE (NATURAL): Price, average unit value of imports, dollars per metric ton at foreign ports: "
    )
    names = [head + "Amorphous", head + "Flake"]
    assert figures.legend_labels(names) == ["…Amorphous", "…Flake"]
    assert figures.legend_labels(["outside", "restrictor"]) == ["outside", "restrictor"]
    assert len(figures.legend_labels(["x" * 80])[0]) == 48


def test_a_failing_page_answers_with_an_html_page_naming_the_failure() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from critmin.web import mount
    from critmin.web.routes import PageRoute

    def broken(params: object) -> object:
        raise ValueError("baseline 0.0 t")

    app = FastAPI()
    mount(app)
    import critmin.web.routes as routes

    original = routes.page_routes
    try:
        routes.page_routes = lambda: [PageRoute("overview", "/", broken)]  # type: ignore[assignment,list-item]
        app2 = FastAPI()
        app2.include_router(routes.build_router())
    finally:
        routes.page_routes = original
    r = TestClient(app2).get("/")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in r.text and "<title>" in r.text
    assert "The overview page could not be built: ValueError: baseline 0.0 t" in r.text
