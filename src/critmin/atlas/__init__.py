"""The supply-chain atlas: validated, unit-normalised production and trade with provenance.

``load_atlas()`` returns the cached :class:`SupplyChain` built from the bundled public data.
"""

from critmin.atlas.chain import SupplyChain
from critmin.atlas.loader import load_atlas

__all__ = ["SupplyChain", "load_atlas"]
