"""Member uploads: column specifications and templates of every kind, one deals format for every surface,
and a header checked once before the rows are sent to the API.

The columns of each kind are those of the service's row models (``critmin.store.submissions.ROW_MODELS``),
so the specification shown, the template downloaded and the API's validation cannot drift apart.
A deals file in the pricing format (``critmin.pricing.transactions``: ``volume_t``, ``seller``,
``reporter``, ``price_unit``; the format of the Prices page and ``critmin price``) is accepted as it is:
``volume_t`` is read as ``tonnes``, ``seller`` as ``counterparty``, a price per kg (``price_unit`` ``kg``)
becomes a price per tonne (x 1000) and ``reporter`` is dropped (the signed-in member is the reporter).
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass
from typing import Any

from critmin.store.submissions import ROW_MODELS

PRICING_ALIASES = {"volume_t": "tonnes", "seller": "counterparty"}
PRICING_ONLY = ("volume_t", "seller", "reporter", "price_unit")
KG_PER_T = 1000.0


class HeaderError(ValueError):
    """The header row of an upload does not fit its kind (reported once, before any row is read)."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an upload kind: name, whether it is required, its type and rule."""

    column: str
    required: bool
    type: str
    rule: str


def _rule(schema: dict[str, Any]) -> str:
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(str(v) for v in schema["enum"]))
    bounds = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("maxLength", "length <="))
    for key, word in bounds:
        if key in schema:
            parts.append(f"{word} {schema[key]}")
    if "pattern" in schema:
        parts.append(f"matches {schema['pattern']}")
    if schema.get("format") == "date":
        parts.append("ISO date YYYY-MM-DD")
    if schema.get("description"):
        parts.append(str(schema["description"]))
    return "; ".join(parts)


def column_specs(kind: str) -> list[ColumnSpec]:
    """The columns of ``kind`` from the service's row model, in model order."""
    schema = ROW_MODELS[kind].model_json_schema()
    required = set(schema.get("required", []))
    specs = []
    for name, prop in schema["properties"].items():
        options = prop.get("anyOf", [prop])
        main = next((o for o in options if o.get("type") != "null"), prop)
        merged = {**main, **{k: v for k, v in prop.items() if k != "anyOf"}}
        kind_name = "date" if merged.get("format") == "date" else str(merged.get("type", "string"))
        specs.append(ColumnSpec(name, name in required, kind_name, _rule(merged)))
    return specs


def template_csv(kind: str) -> str:
    """The header row of ``kind`` (required columns first), the start of a file to fill in."""
    specs = column_specs(kind)
    cols = [s.column for s in specs if s.required] + [s.column for s in specs if not s.required]
    return ",".join(cols) + "\n"


def _pricing_row(row: dict[Any, Any]) -> dict[str, str]:
    out: dict[str, str] = {
        PRICING_ALIASES.get(str(k), str(k)): v for k, v in row.items() if k not in ("reporter", None)
    }
    if row.get(None):  # cells beyond the header: kept, so that the API names this row
        out["extra_cells"] = ";".join(str(v) for v in row[None])
    unit = (out.get("price_unit") or "").strip()
    if unit in ("", "t"):
        out.pop("price_unit", None)
    elif unit == "kg":
        with contextlib.suppress(ValueError):  # a bad price stays, and the API names it for this row
            out["price"] = repr(float(out.get("price") or "") * KG_PER_T)
        out.pop("price_unit", None)
    return out  # any other unit stays, and the API names it as this row's bad value


def normalise(kind: str, text: str) -> str:
    """The upload as CSV in the service's columns; :class:`HeaderError` when the header does not fit."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise HeaderError("the file is empty: the first line must be the header row")
    reader.fieldnames = header
    specs = column_specs(kind)
    known = {s.column for s in specs}
    pricing = kind == "transactions" and any(h in PRICING_ONLY for h in header)
    mapped = [PRICING_ALIASES.get(h, h) if pricing else h for h in header]
    allowed = known | ({"reporter", "price_unit"} if pricing else set())
    unknown = [h for h, m in zip(header, mapped, strict=True) if m not in allowed]
    missing = [s.column for s in specs if s.required and s.column not in mapped]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or duplicated:
        problems = [
            f"unknown column(s) {unknown}" if unknown else "",
            f"missing column(s) {missing}" if missing else "",
            f"repeated column(s) {duplicated}" if duplicated else "",
        ]
        expected = [s.column for s in specs if s.required]
        optional = [s.column for s in specs if not s.required]
        raise HeaderError(
            f"header row of this {kind} file: {'; '.join(p for p in problems if p)}. Expected the columns "
            f"{expected}" + (f" and optionally {optional}" if optional else "") + " (see the template)."
        )
    if not pricing:
        return text
    out = io.StringIO()
    rows = [_pricing_row(dict(r)) for r in reader]
    columns = list(dict.fromkeys(c for r in rows for c in r))
    writer = csv.DictWriter(out, fieldnames=columns or mapped, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
