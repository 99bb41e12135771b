"""critmin: the open decision platform for a critical-minerals alliance."""

__version__ = "0.1.0"
