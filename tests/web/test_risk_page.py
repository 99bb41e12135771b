"""Risk page: ranked expected loss with bands, excluded materials, tornado chart, CSV downloads."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from critmin.web import mount
from critmin.web.page import PageError
from critmin.web.risk import build_risk

SMALL = {"scenarios": "300", "seed": "1"}


def test_risk_page_blocks_and_tornado_are_consistent() -> None:
    page = build_risk(SMALL | {"perspective": "USA"})
    table = page.block("table").frame
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert (table["expected_loss_p5_usd"] <= table["expected_loss_usd"]).all()
    excluded = set(page.block("excluded").frame["material"])
    assert excluded and not excluded & set(table["material"])
    tor = page.block("tornado").frame
    assert tor["swing_usd"].is_monotonic_decreasing
    # every bar starts at the same central total and the swing is the distance between its two ends
    assert tor["central_usd"].nunique() == 1
    assert ((tor["high_usd"] - tor["low_usd"]).abs() - tor["swing_usd"]).abs().max() < 1e-6
    fig = page.block("tornado").figure
    assert fig is not None and len(fig["data"]) == 2 and fig["data"][0]["orientation"] == "h"
    assert "USA expected loss" in page.intro and "never ranked as zero" in page.intro


def test_risk_page_html_and_csv_download() -> None:
    app = FastAPI()
    mount(app)
    client = TestClient(app)
    html = client.get("/risk", params=SMALL)
    assert html.status_code == 200 and "Tornado" in html.text and 'name="perspective"' in html.text
    r = client.get("/download.csv", params={"page": "risk", "block": "tornado", **SMALL})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    got = pd.read_csv(io.StringIO(r.text))
    assert list(got.columns[:5]) == ["parameter", "low_usd", "central_usd", "high_usd", "swing_usd"]
    assert len(got) == len(build_risk(SMALL).block("tornado").frame)


def test_bad_perspective_is_named() -> None:
    with pytest.raises(PageError) as err:
        build_risk(SMALL | {"perspective": "nowhere-land"})
    assert err.value.status == 422 and "nowhere-land" in str(err.value)
