"""One JSON serialisation for every result: numpy and pandas values, NaN, dates and pydantic models.

``plain(obj)`` turns a result into JSON-safe Python (NaN and infinities become ``None``, numpy scalars and
arrays become Python numbers and lists, dates ISO text, DataFrames a list of records, pydantic models and
dataclasses their fields); ``dumps(obj)`` is its strict JSON text (``allow_nan=False``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from typing import Any


def plain(obj: Any) -> Any:
    """JSON-safe Python for ``obj`` (see the module docstring)."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [plain(v) for v in obj]
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if hasattr(obj, "model_dump"):  # pydantic
        return plain(obj.model_dump())
    if hasattr(obj, "to_dict") and hasattr(obj, "columns"):  # pandas DataFrame
        return plain(obj.to_dict(orient="records"))
    if hasattr(obj, "tolist"):  # numpy arrays and scalars, pandas Series
        return plain(obj.tolist())
    if hasattr(obj, "item") and not isinstance(obj, bytes):
        return plain(obj.item())
    if hasattr(obj, "isoformat"):  # pandas Timestamp
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return plain({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    return str(obj)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """Strict JSON text of ``obj`` (NaN -> null; no indentation unless asked)."""
    return json.dumps(plain(obj), allow_nan=False, ensure_ascii=False, indent=indent)
