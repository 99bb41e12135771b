"""The PDF brief of a material: a real PDF holding the page's message, key facts and data editions."""

from __future__ import annotations

import re
import zlib

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
