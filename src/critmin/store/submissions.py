"""Member submissions: all-or-nothing validation with per-row errors, then one transactional insert."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection
from datetime import date as Date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from critmin.store import audit
from critmin.store.aggregates import check_revision
from critmin.store.bounds import FIRST_DATE, LAST_DATE, bad_text, check_number, currencies
from critmin.store.members import Principal
from critmin.store.models import Submission, SubmissionRow

KINDS = ("production", "demand", "stocks", "transactions")
MAX_ROWS = 1_000_000
SLUG = r"^[a-z][a-z0-9-]{0,63}$"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    material: str = Field(pattern=SLUG, description="material slug, e.g. gallium")
    tonnes: float = Field(ge=0, description="tonnes of contained content (at most submission_max_tonnes)")

    @model_validator(mode="before")
    @classmethod
    def _plain_values(cls, data: Any) -> Any:
        """Booleans are never read as numbers; text must be storable (no NUL, no lone surrogate)."""
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, bool):
                    raise PydanticCustomError(
                        "bool_type", "{field}: a boolean is not a number or text", {"field": key}
                    )
                if isinstance(value, str) and (reason := bad_text(value)):
                    raise PydanticCustomError(
                        "string_type", "{field}: {reason}", {"field": key, "reason": reason}
                    )
        return data

    @field_validator("tonnes")
    @classmethod
    def _plausible_tonnes(cls, v: float) -> float:
        return check_number(v, "submission_max_tonnes", "tonnes")


Year = Annotated[int, Field(ge=FIRST_DATE.year, le=LAST_DATE.year)]


class ProductionRow(_Row):
    """Production of a material at a stage in a year (tonnes of contained content)."""

    stage: Literal["mine", "refine", "magnet"]
    year: Year


class DemandRow(_Row):
    """Apparent consumption of a material in a year."""

    year: Year


class StocksRow(_Row):
    """Stocks held at the end of a year (optionally per stage)."""

    year: Year
    stage: Literal["mine", "refine", "magnet"] | None = None


class TransactionRow(_Row):
    """A reported deal: date, material, stage, volume, price per tonne, currency and counterparty (the
    seller), optionally the specification, incoterm and buyer the pricing methodology normalises on."""

    date: Date = Field(ge=FIRST_DATE, le=LAST_DATE)
    stage: Literal["mine", "refine", "magnet"]
    tonnes: float = Field(gt=0, description="volume in tonnes")
    price: float = Field(gt=0, description="price per tonne in `currency` (at most submission_max_price)")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    counterparty: str = Field(min_length=1, max_length=200)
    specification: str | None = Field(None, min_length=1, max_length=200)
    incoterm: str | None = Field(None, min_length=1, max_length=200)
    buyer: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("price")
    @classmethod
    def _plausible_price(cls, v: float) -> float:
        return check_number(v, "submission_max_price", "price")

    @field_validator("currency")
    @classmethod
    def _iso4217(cls, v: str) -> str:
        if v not in currencies():
            raise ValueError(f"{v!r} is not an ISO 4217 currency code")
        return v


ROW_MODELS: dict[str, type[_Row]] = {
    "production": ProductionRow,
    "demand": DemandRow,
    "stocks": StocksRow,
    "transactions": TransactionRow,
}


class RowError(BaseModel):
    """One rejected value: data row (1-based), field, the value received and why it was rejected."""

    row: int
    field: str
    value: Any = None
    reason: str


class SubmissionInvalid(ValueError):
    """The upload was rejected as a whole; ``errors`` lists every bad value."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            f"{len(errors)} invalid value(s); first: {errors[0].model_dump() if errors else None}"
        )
        self.errors = errors


def parse_csv(text: str) -> list[dict[str, Any]]:
    """CSV text (header row + data rows) as a list of dicts; blank cells become absent fields. Text the
    csv module cannot read (e.g. a stray carriage return inside a field) is refused with its line."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[dict[str, Any]] = []
    try:
        if reader.fieldnames is None:
            raise SubmissionInvalid(
                [RowError(row=0, field="(header)", value="", reason="empty CSV: no header row")]
            )
        for raw in reader:
            extra = raw.pop(None, None)
            row: dict[str, Any] = {k: v for k, v in raw.items() if v not in (None, "")}
            if extra:
                row["(extra cells)"] = extra
            rows.append(row)
    except csv.Error as exc:
        line = reader.line_num
        raise SubmissionInvalid(
            [
                RowError(
                    row=max(0, line - 1), field="(file)", value=f"line {line}", reason=f"not valid CSV: {exc}"
                )
            ]
        ) from exc
    return rows


def validate_rows(
    kind: str, rows: list[dict[str, Any]], materials: Collection[str] | None = None
) -> list[_Row]:
    """Every row validated (``material`` must be in ``materials`` when given); raises
    :class:`SubmissionInvalid` listing all errors when any row is bad."""
    if kind not in ROW_MODELS:
        raise SubmissionInvalid(
            [RowError(row=0, field="kind", value=kind, reason=f"expected one of {list(KINDS)}")]
        )
    if not rows:
        raise SubmissionInvalid(
            [RowError(row=0, field="rows", value=0, reason="a submission needs at least one row")]
        )
    if len(rows) > MAX_ROWS:
        raise SubmissionInvalid(
            [RowError(row=0, field="rows", value=len(rows), reason=f"at most {MAX_ROWS} rows per submission")]
        )
    model = ROW_MODELS[kind]
    good: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            errors.append(
                RowError(row=i, field="(row)", value=raw, reason="expected an object of field values")
            )
            continue
        try:
            row = model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                name = ".".join(str(p) for p in err["loc"]) or str(
                    (err.get("ctx") or {}).get("field", "(row)")
                )
                value = None if err["type"] == "missing" else raw.get(name)
                errors.append(RowError(row=i, field=name, value=_jsonable(value), reason=err["msg"]))
            continue
        if materials is not None and row.material not in materials:
            errors.append(
                RowError(row=i, field="material", value=row.material, reason="not a material of the atlas")
            )
            continue
        key = row.model_dump_json()
        if key in seen:
            errors.append(
                RowError(
                    row=i, field="(row)", value=None, reason=f"duplicate of row {seen[key]}: the same values"
                )
            )
            continue
        seen[key] = i
        good.append(row)
    if errors:
        raise SubmissionInvalid(errors)
    return good


def _jsonable(value: Any) -> Any:
    """``value`` as it can be echoed in an error body (unstorable text escaped, non-finite as text)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    if value is None or isinstance(value, int | bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _row_values(kind: str, row: _Row) -> dict[str, Any]:
    values: dict[str, Any] = {
        "material": row.material,
        "tonnes": row.tonnes,
        "stage": getattr(row, "stage", None),
    }
    if isinstance(row, TransactionRow):
        values.update(
            year=row.date.year,
            date=row.date.isoformat(),
            price=row.price,
            currency=row.currency,
            counterparty=row.counterparty,
            specification=row.specification,
            incoterm=row.incoterm,
            buyer=row.buyer,
        )
    else:
        values["year"] = row.year  # type: ignore[attr-defined]
    return values


def find_by_key(session: Session, who: Principal, key: str) -> Submission | None:
    """The member's submission made with idempotency key ``key``."""
    stmt = select(Submission).where(Submission.member_id == who.member_id, Submission.idempotency_key == key)
    return session.execute(stmt).scalar_one_or_none()


def save_submission(
    session: Session,
    who: Principal,
    kind: str,
    rows: list[dict[str, Any]],
    source_format: str,
    materials: Collection[str] | None = None,
    idempotency_key: str | None = None,
) -> Submission:
    """Validate every row, then insert the submission and its rows and append the audit entry; a
    submission into released periods is a revision (rate-limited, recorded with the release it revises).

    Runs inside the caller's write transaction: on any error nothing is written.
    """
    if who.role != "member" or who.iso3 is None or who.member_id is None:
        raise PermissionError("only member accounts (scoped to a country) submit data")
    valid = validate_rows(kind, rows, materials)
    sub = Submission(
        member_id=who.member_id,
        iso3=who.iso3,
        kind=kind,
        source_format=source_format,
        row_count=len(valid),
        idempotency_key=idempotency_key,
    )
    session.add(sub)
    session.flush()
    years = {_row_values(kind, r)["year"] for r in valid}
    sub.revises_release = check_revision(session, who, kind, years, sub.id, "submit")
    payload = [
        {"submission_id": sub.id, "row_number": i, **_row_values(kind, r)}
        for i, r in enumerate(valid, start=1)
    ]
    for start in range(0, len(payload), 5000):
        session.execute(insert(SubmissionRow), payload[start : start + 5000])
    audit.append(
        session,
        who.label,
        "submission.create",
        f"submission:{sub.id}",
        {
            "kind": kind,
            "rows": len(valid),
            "iso3": who.iso3,
            "format": source_format,
            "revises_release": sub.revises_release,
        },
        rows=[f"submission:{sub.id}"],
    )
    return sub
