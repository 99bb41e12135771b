"""Pure analytics on the atlas: concentration, dependency, supply risk, and the exposure report."""

from critmin.analytics.concentration import group_shares, hhi, shares, top_k_share
from critmin.analytics.dependency import (
    dependency,
    import_reliance,
    supplier_shares,
    supply_dependency,
    us_net_import_reliance,
)
from critmin.analytics.exposure import exposure_detail, exposure_table
from critmin.analytics.supply_risk import eu_supply_risk, geopolrisk, governance_risk_pv, hhi_wgi, wgi_scaled

__all__ = [
    "dependency",
    "eu_supply_risk",
    "exposure_detail",
    "exposure_table",
    "geopolrisk",
    "governance_risk_pv",
    "group_shares",
    "hhi",
    "hhi_wgi",
    "import_reliance",
    "shares",
    "supplier_shares",
    "supply_dependency",
    "top_k_share",
    "us_net_import_reliance",
    "wgi_scaled",
]
