"""Result metadata: which data editions and parameters produced a number."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

import critmin

DATA_EDITIONS: dict[str, str] = {
    "usgs-mcs2026": "USGS Mineral Commodity Summaries 2026 data release (doi:10.5066/P1WKQ63T), Feb 2026",
    "usgs-mcs2025": "USGS Mineral Commodity Summaries 2025 data release (doi:10.5066/P13XCP3R), Jan 2025",
    "usgs-mcs2024": "USGS Mineral Commodity Summaries 2024 data release v2 (doi:10.5066/P144BA54)",
    "usgs-mcs2023": "USGS Mineral Commodity Summaries 2023 data release (doi:10.5066/P9WCYUI6), Jan 2023",
    "usgs-mcs2022": "USGS Mineral Commodity Summaries 2022 data release (doi:10.5066/P9KKMCP4), Jan 2022",
    "usgs-myb2022": "USGS Minerals Yearbook 2022, Rare Earths, advance release of the tables, Mar 2025",
    "usgs-ds140": "USGS Data Series 140, Historical Statistics: rare earths 1900-2020, Sep 2023",
    "theler2020": "Theler, Kauwe & Sparks (2020), USGS Minerals Yearbook 1998-2015 transcription (secondary)",
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
