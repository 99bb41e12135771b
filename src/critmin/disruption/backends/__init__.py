"""Execution backends for Monte Carlo chunks: ``local`` (in process) and ``dask`` (distributed)."""
