"""Reported transactions: validated reading of a members' deal file (all or nothing).

A transactions CSV has the columns of :data:`TRANSACTION_COLUMNS` (``price_unit`` optional: ``t``, the
default, or ``kg``). Every row is validated before anything is assessed; the first bad cell raises
:class:`TransactionFileError` naming the file, row, column, value and what was expected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TRANSACTION_COLUMNS = [
    "date",
    "material",
    "stage",
    "specification",
    "volume_t",
    "price",
    "currency",
    "incoterm",
    "buyer",
    "seller",
    "reporter",
]
OPTIONAL_COLUMNS = ["price_unit"]


class TransactionFileError(ValueError):
    """A bad cell in a transactions, FX or differentials file: file, row, column, value, expected."""

    def __init__(self, file: str, row: int, column: str, value: object, expected: str) -> None:
        self.file, self.row, self.column, self.value, self.expected = file, row, column, value, expected
        super().__init__(f"{file} row {row}, column {column}: value {value!r}; expected {expected}")


class Transaction(BaseModel):
    """One reported deal. ``price`` is in ``currency`` per ``price_unit`` (tonne or kilogram)."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    date: date
    material: str = Field(min_length=1)
    stage: str = Field(min_length=1)
    specification: str = Field(min_length=1)
    volume_t: float = Field(gt=0, allow_inf_nan=False)
    price: float = Field(gt=0, allow_inf_nan=False)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    incoterm: str = Field(min_length=1)
    buyer: str = Field(min_length=1)
    seller: str = Field(min_length=1)
    reporter: str = Field(min_length=1)
    price_unit: Literal["t", "kg"] = "t"

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.strip().upper() if isinstance(v, str) else v


_EXPECTED = {
    "date": "an ISO date YYYY-MM-DD",
    "material": "a material slug",
    "stage": "a non-empty stage (mine, refine, ...)",
    "specification": "a non-empty specification",
    "volume_t": "a positive number of tonnes",
    "price": "a positive price",
    "currency": "a 3-letter ISO 4217 currency code",
    "incoterm": "a non-empty incoterm / delivery point",
    "buyer": "a non-empty buyer",
    "seller": "a non-empty seller",
    "reporter": "a non-empty reporter",
    "price_unit": "'t' or 'kg'",
}


@dataclass(frozen=True)
class FxTable:
    """USD per unit of each currency, supplied by the user (no bundled FX numbers). USD is 1."""

    usd_per_unit: Mapping[str, float]
    source: str = "user"

    def rate(self, currency: str) -> float | None:
        """USD per unit of ``currency`` or None when the table has no rate."""
        if currency == "USD":
            return 1.0
        return self.usd_per_unit.get(currency)


def _read_rows(text: str, file: str, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise TransactionFileError(file, 1, missing[0], None, f"a header with the columns {required}")
    reader.fieldnames = header
    rows = []
    for i, raw in enumerate(reader, start=2):
        if None in raw:
            raise TransactionFileError(file, i, "(extra)", raw[None], f"{len(header)} fields per row")
        rows.append((i, {k: (v or "").strip() for k, v in raw.items()}))
    return rows


def read_fx_csv(path: str | Path) -> FxTable:
    """Read ``currency,usd_per_unit`` rows (positive numbers) from a user-supplied file."""
    file = str(path)
    out: dict[str, float] = {}
    for row, rec in _read_rows(Path(path).read_text(encoding="utf-8"), file, ["currency", "usd_per_unit"]):
        cur = rec["currency"].upper()
        if len(cur) != 3 or not cur.isalpha():
            raise TransactionFileError(file, row, "currency", rec["currency"], _EXPECTED["currency"])
        try:
            value = float(rec["usd_per_unit"])
        except ValueError:
            value = float("nan")
        if not value > 0 or value == float("inf"):
            raise TransactionFileError(file, row, "usd_per_unit", rec["usd_per_unit"], "a positive number")
        out[cur] = value
    return FxTable(out, source=file)


def parse_transactions(
    text: str,
    file: str,
    *,
    materials: Collection[str],
    as_of: date,
    fx: FxTable | None = None,
) -> list[Transaction]:
    """Validate every row of a transactions CSV text; raise on the first bad cell, else return all rows.

    Rules beyond the field types: ``material`` must be a known slug; ``date`` must not be after the
    assessment date ``as_of`` (a deal cannot be reported before it happened); a non-USD ``currency``
    needs a rate in ``fx``.
    """
    fx = fx or FxTable({})
    known = set(materials)
    out: list[Transaction] = []
    for row, rec in _read_rows(text, file, TRANSACTION_COLUMNS):
        data = {k: v for k, v in rec.items() if k in TRANSACTION_COLUMNS or k in OPTIONAL_COLUMNS}
        if data.get("price_unit", "") == "":
            data.pop("price_unit", None)
        try:
            tx = Transaction.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            col = str(err["loc"][0]) if err["loc"] else "?"
            raise TransactionFileError(file, row, col, rec.get(col), _EXPECTED.get(col, err["msg"])) from None
        if tx.material not in known:
            raise TransactionFileError(
                file, row, "material", rec["material"], f"a known material slug (e.g. {sorted(known)[:5]})"
            )
        if tx.date > as_of:
            raise TransactionFileError(
                file, row, "date", rec["date"], f"a date on or before the assessment date {as_of.isoformat()}"
            )
        if fx.rate(tx.currency) is None:
            raise TransactionFileError(
                file,
                row,
                "currency",
                rec["currency"],
                f"USD or a currency with a rate in the FX table ({sorted(fx.usd_per_unit) or 'none given'})",
            )
        out.append(tx)
    return out


def read_transactions_csv(
    path: str | Path, *, materials: Collection[str], as_of: date, fx: FxTable | None = None
) -> list[Transaction]:
    """Read and validate a transactions file (see :func:`parse_transactions`)."""
    return parse_transactions(
        Path(path).read_text(encoding="utf-8"), str(path), materials=materials, as_of=as_of, fx=fx
    )
