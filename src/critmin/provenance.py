"""Result metadata: which data editions and parameters produced a number."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

import critmin

DATA_EDITIONS: dict[str, str] = {
    "usgs-mcs2026": "USGS Mineral Commodity Summaries 2026 data release (doi:10.5066/P1WKQ63T), Feb 2026",
    "usgs-mcs2025": "USGS Mineral Commodity Summaries 2025 data release (doi:10.5066/P13XCP3R), Jan 2025",
    "iea-cm-2025": "IEA Global Critical Minerals Outlook 2025 / Critical Minerals Dataset, May 2025",
    "baci-hs17-v202601": "CEPII BACI HS17 V202601",
    "wgi-2024": "World Bank Worldwide Governance Indicators, 2024 update (data to 2023)",
    "wb-pinksheet-2026-06": "World Bank Commodity Price Data (Pink Sheet), 2026-06-02",
    "wb-wdi-2026-07": "World Bank WDI (GDP, industry value added), datahub mirror 2026-07-01",
}


class RunMetadata(BaseModel):
    """Attached to every result: software version, data editions, parameters and time of the run."""

    critmin_version: str = Field(default_factory=lambda: critmin.__version__)
    data_editions: dict[str, str] = Field(default_factory=lambda: dict(DATA_EDITIONS))
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameter_digest: str = ""
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
