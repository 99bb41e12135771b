"""The PDF brief of a material: a real PDF holding the page's message, key facts and data editions."""

from __future__ import annotations

import re
import time
import zlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from critmin.web import mount
from critmin.web.material import build_material


def _text(pdf: bytes) -> str:
    """The decompressed content streams of ``pdf`` (fpdf2 writes text as literal strings)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S)
    out = []
    for raw in streams:
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def test_material_brief_holds_the_message_numbers_and_editions() -> None:
    app = FastAPI()
    mount(app)
    client = TestClient(app)
    r = client.get("/materials/brief.pdf", params={"material": "gallium"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="critmin-brief-gallium.pdf"'
    assert r.content.startswith(b"%PDF-") and r.content.rstrip().endswith(b"%%EOF")
    text = _text(r.content)
    page = build_material({"material": "gallium"})
    refine = page.block("key-facts").frame.set_index("Stage").loc["refine"]
    assert f"China {refine['China (% of world)']:.1f}% of world output" in text
    assert "Sources and data editions" in text and "usgs-mcs2026" in text
    missing = client.get("/materials/brief.pdf", params={"material": "unobtainium"})
    assert missing.status_code == 404 and "unobtainium" in missing.text


def test_scenario_brief_holds_the_scenario_pages_figures(tmp_path: Path) -> None:
    """A ``simulate`` job run by the service's worker; its brief's tables equal the job page's, cell by
    cell, and the peak price and loss of the lead are in it; another account's job gives no brief."""
    from critmin.api.app import create_app
    from critmin.store import Store
    from critmin.store.members import Principal, create_member, issue_token
    from critmin.web.render import fmt
    from critmin.web.scenario_results import compose_scenario
    from critmin.web.scenarios import job_page

    from .pdftext import pdf_strings, pdf_table

    store = Store(f"sqlite:///{tmp_path / 'brief.db'}")
    store.upgrade()
    admin = Principal(None, "test", "system", None)
    with store.write() as s:
        token = issue_token(s, admin, create_member(s, admin, "Japan", "member", "JPN"), "t")
        other = issue_token(s, admin, create_member(s, admin, "Canada", "member", "CAN"), "t")
    me = {"Authorization": f"Bearer {token}"}
    form = {"material": "gallium", "exporter": "CHN", "stage": "refine", "duration_months": "12",
            "horizon_months": "18", "name": "ga-ban-12m"}  # fmt: skip
    scenario = compose_scenario(form)
    with TestClient(create_app(store)) as c:
        job_id = c.post("/api/v1/jobs", json={"kind": "simulate", "params": {"scenario": scenario}},
                        headers=me).json()["id"]  # fmt: skip
        assert c.get(f"/scenarios/jobs/{job_id}/brief.pdf", headers=me).status_code in (200, 409)
        deadline = time.monotonic() + 120
        while (job := c.get(f"/api/v1/jobs/{job_id}", headers=me).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert job["status"] == "succeeded", job
        r = c.get(f"/scenarios/jobs/{job_id}/brief.pdf", headers=me)
        refused = c.get(f"/scenarios/jobs/{job_id}/brief.pdf", headers={"Authorization": f"Bearer {other}"})
        html = c.get(f"/scenarios/jobs/{job_id}", headers=me).text
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="critmin-brief-scenario-ga-ban-12m.pdf"'
    assert refused.status_code == 404 and not refused.content.startswith(b"%PDF")
    assert f'href="/scenarios/jobs/{job_id}/brief.pdf"' in html
    page = job_page(job)
    strings = pdf_strings(r.content)
    for key in ("summary", "inputs"):
        frame = page.block(key).frame
        rows = [
            [fmt(v.item() if hasattr(v, "item") else v) for v in row] for row in frame.itertuples(index=False)
        ]
        assert pdf_table(strings, [str(c) for c in frame.columns], len(frame)) == rows, key
    summary = page.block("summary").frame.iloc[0]
    assert summary["ban window"] == "months 0-11" and summary["peak price (x pre-shock)"] > 1
    text = " ".join(strings)
    assert f"{summary['peak price (x pre-shock)']:.2f} x the pre-shock price" in text
    top = page.block("members").frame.iloc[0]
    assert f"{top['member']} ({top['material']})" in strings


def test_a_scenario_without_shortfall_says_so_in_its_brief() -> None:
    """China's 6-month refined-gallium ban over 12 months: stocks and spare capacity leave no member short
    in this engine, and the brief says so instead of drawing empty bars."""
    from critmin.runs.shock import ShockRequest, run
    from critmin.web.brief import scenario_brief
    from critmin.web.scenario_results import compose_scenario
    from critmin.web.scenarios import job_page

    from .pdftext import pdf_strings

    scenario = compose_scenario({"material": "gallium", "exporter": "CHN", "stage": "refine",
                                 "duration_months": "6", "horizon_months": "12"})  # fmt: skip
    result = run(ShockRequest(scenario=scenario)).to_dict()
    job = {
        "id": "j",
        "kind": "simulate",
        "status": "succeeded",
        "params": {"scenario": scenario},
        "result": result,
    }
    page = job_page(job)
    assert page.block("members").frame.empty
    strings = pdf_strings(scenario_brief(page))
    assert any(s.startswith("No member is left short of supply") for s in strings)
    loss = page.block("summary").frame.iloc[0]["loss (USD)"]
    assert loss > 0 and fmt_cell(loss) in strings


def fmt_cell(value: object) -> str:
    from critmin.web.render import fmt

    return fmt(value.item() if hasattr(value, "item") else value)
