"""Reading back what fpdf2 wrote: the text strings of a PDF's content streams, in drawing order, and a
table found by its header row (each cell is one string)."""

from __future__ import annotations

import re
import zlib

_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\) Tj")


def pdf_strings(pdf: bytes) -> list[str]:
    """Every ``(text) Tj`` string of every content stream (escapes undone), in order."""
    out: list[str] = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            data = zlib.decompress(raw)
        except zlib.error:
            data = raw
        for m in _STRING.finditer(data):
            text = re.sub(rb"\\(.)", rb"\1", m.group(1))
            out.append(text.decode("latin-1"))
    return out


def pdf_table(strings: list[str], header: list[str], n_rows: int) -> list[list[str]]:
    """The ``n_rows`` rows under the first occurrence of ``header`` (AssertionError if it is absent)."""
    width = len(header)
    for i in range(len(strings) - width + 1):
        if strings[i : i + width] == header:
            body = strings[i + width : i + width + width * n_rows]
            assert len(body) == width * n_rows, (header, len(body))
            return [body[k : k + width] for k in range(0, len(body), width)]
    raise AssertionError(f"no table with the header {header} in the PDF")
