"""The reference-price question: what the reported deals say a material costs (CLI ``critmin price
assess``, the ``price`` and ``price_submitted`` jobs, the prices page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from critmin.parameters import ParameterSet
from critmin.pricing.transactions import Transaction
from critmin.provenance import RunMetadata
from critmin.serialize import plain


class PriceRequest(BaseModel):
    """Reported deals, the assessment date and the window (days) ending on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    transactions: list[Transaction] = Field(min_length=1, max_length=100_000)
    as_of: date
    window_days: int = Field(default=30, ge=1, le=3650)

    @model_validator(mode="after")
    def _not_after(self) -> PriceRequest:
        late = [t for t in self.transactions if t.date > self.as_of]
        if late:
            raise ValueError(f"transaction dated {late[0].date} is after as_of {self.as_of}")
        return self


@dataclass(frozen=True)
class PriceResult:
    """``prices``: one row per material/stage/specification/incoterm; ``deals``: every normalised deal."""

    request: PriceRequest
    prices: pd.DataFrame
    deals: pd.DataFrame
    metadata: RunMetadata

    def to_dict(self, *, deals: bool = True) -> dict[str, Any]:
        """JSON-ready: prices (and the deals unless ``deals=False``) with the metadata."""
        body: dict[str, Any] = {"prices": self.prices} | ({"deals": self.deals} if deals else {})
        out: dict[str, Any] = plain(body)
        return out | {"metadata": self.metadata.model_dump(mode="json")}


def run(
    request: PriceRequest,
    *,
    atlas: Any = None,
    params: ParameterSet | None = None,
    fx: Any = None,
    normalisation: Any = None,
) -> PriceResult:
    """Assess the reference prices (publication rules of :mod:`critmin.pricing.reference_price`);
    ``fx`` converts non-USD deals, ``normalisation`` applies specification differentials."""
    from critmin.pricing.reference_price import assess

    res = assess(
        request.transactions,
        as_of=request.as_of,
        window_days=request.window_days,
        fx=fx,
        normalisation=normalisation,
        params=params,
    )
    return PriceResult(request, res.prices, res.deals, res.metadata)
