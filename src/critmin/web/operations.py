"""Operator forms for every reserve operation, generated from the vault library's operation models.

Each operation of :data:`critmin.vault.Operation` (open, register, subscribe, acquire, draw, ...) gets
one form whose fields are the model's fields: numbers, dates, choices (``Literal``), yes/no, text; a nested
model (the participant of ``register``) is flattened into ``participant.id``, ``participant.kind``, ...;
the terms of ``open`` are the documented defaults of ``vault.csv`` (:func:`critmin.vault.default_terms`).
A submitted form is validated by the same pydantic model before the API is called, so a bad value is
named with its field and the form keeps what was typed.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from critmin.vault import Operation

SKIP = {"op", "key", "terms"}
OP_TITLES = {
    "open": "Open the reserve (terms: vault.csv defaults)",
    "register": "Register a participant",
    "subscribe": "Subscribe a participant",
    "acquire": "Acquire stock",
    "draw": "Record a draw on a subscription",
    "replenish": "Record a replenishment",
    "buy_back": "Record a buy-back",
    "settle_carry": "Settle carrying cost",
    "set_trigger": "Set a price trigger",
    "observe_price": "Observe a reference price",
    "declare": "Declare (or end) a disruption",
    "allocate": "Emergency allocation",
    "advance": "Advance the clock",
}


@dataclass(frozen=True)
class FormField:
    """One input of an operation form."""

    name: str
    label: str
    kind: Literal["text", "number", "date", "select", "checkbox"]
    required: bool
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class OpForm:
    """The form of one operation: its ``op`` value, title and fields in model order."""

    op: str
    title: str
    fields: list[FormField] = field(default_factory=list)


def _models() -> list[type[BaseModel]]:
    union = get_args(Operation)[0]
    return [m for m in get_args(union) if isinstance(m, type) and issubclass(m, BaseModel)]


def _field(name: str, annotation: Any, required: bool, description: str | None) -> list[FormField]:
    args = [a for a in get_args(annotation) if a is not type(None)]
    optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)
    base = args[0] if optional and len(args) == 1 else annotation
    label = name.replace("_", " ").replace(" usd", " (USD)").replace(" t", " (t)").replace("per (t)", "per t")
    help_text = description or ""
    if isinstance(base, type) and issubclass(base, BaseModel):
        return [
            f
            for sub, info in base.model_fields.items()
            for f in _field(f"{name}.{sub}", info.annotation, info.is_required(), info.description)
        ]
    if get_origin(base) is Literal:
        return [FormField(name, label, "select", required, tuple(str(a) for a in get_args(base)), help_text)]
    kind: Literal["text", "number", "date", "select", "checkbox"] = "text"
    if base is float or base is int:
        kind = "number"
    elif base is date:
        kind = "date"
    elif base is bool:
        kind = "checkbox"
    return [FormField(name, label, kind, required and kind != "checkbox", (), help_text)]


def operation_forms() -> list[OpForm]:
    """One form per operation of the vault library, in the library's order."""
    forms = []
    for model in _models():
        op = str(model.model_fields["op"].default)
        fields = [
            f
            for name, info in model.model_fields.items()
            if name not in SKIP
            for f in _field(name, info.annotation, info.is_required(), info.description)
        ]
        forms.append(OpForm(op, OP_TITLES.get(op, op), fields))
    return forms


class OperationFormError(ValueError):
    """A form that does not make a valid operation (the message names each field, value and rule)."""


def operation_from_form(form: Mapping[str, str], key: str) -> dict[str, Any]:
    """The JSON body of the operation a submitted form describes, validated by the vault's model."""
    from critmin.vault import OPERATION_ADAPTER, default_terms

    op = str(form.get("op", ""))
    spec = next((f for f in operation_forms() if f.op == op), None)
    if spec is None:
        raise OperationFormError(f"operation {op!r}: expected one of {[f.op for f in operation_forms()]}")
    body: dict[str, Any] = {"op": op, "key": key}
    for f in spec.fields:
        raw = str(form.get(f.name, "")).strip()
        if f.kind == "checkbox":
            value: Any = raw in ("on", "true", "1", "yes")
        elif raw == "":
            continue
        else:
            value = raw
        target = body
        *parents, leaf = f.name.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = value
    if op == "open":
        body["terms"] = default_terms().model_dump(mode="json")
    try:
        parsed = OPERATION_ADAPTER.validate_python(body)
    except ValidationError as err:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'][1:])}: "
            + ("required" if e["type"] == "missing" else f"{e['msg']} (value {e.get('input')!r})")
            for e in err.errors()
        ]
        raise OperationFormError(f"{op}: " + "; ".join(problems)) from None
    result: dict[str, Any] = parsed.model_dump(mode="json")
    return result
