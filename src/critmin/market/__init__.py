"""Two-zone iso-elastic partial equilibrium (see ``docs/methods/market.md``)."""

from critmin.market.equilibrium import ZoneSolution, solve_zone

__all__ = ["ZoneSolution", "solve_zone"]
