"""Whose loss: split the importing zone's loss (and the producers' windfall) over countries.

The loss of a (scenario, material) falls on the outside zone: every country but the restrictor. Country
``j``'s part when candidate ``k`` restricts is its consumption share renormalised without ``k``:

    A[m, k, j] = cs[m, j] * (j != k) / (1 - cs[m, k])

(``cs`` from :attr:`MarketInputs.consumption_share`, apparent consumption or GDP share, summing to 1 over
all countries); when the restrictor would consume everything (``cs[m, k] = 1``) the shares are used as
they are. So the parts of all countries add up to the world's loss in every scenario, and the loss of a
member or a group is the sum of its countries' parts. The producers' windfall is split the same way over
the outside producers' shares of output at the market stage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def outside_shares(
    share: FloatArray, countries: Sequence[str], cand_country: NDArray[np.object_]
) -> FloatArray:
    """``A [M, K, C]``: share of country ``c`` in the outside zone of material ``m`` when candidate ``k``
    restricts (see the module docstring). ``share`` is ``[M, C]``; ``cand_country`` ``[M, K]`` ISO3."""
    M, K = cand_country.shape
    pos = {c: j for j, c in enumerate(countries)}
    out = np.repeat(share[:, None, :], K, axis=1)
    for m in range(M):
        for k in range(K):
            j = pos.get(str(cand_country[m, k]), -1)
            if j < 0:
                continue
            rest = 1.0 - share[m, j]
            if rest > 1e-12:
                out[m, k] = share[m] / rest
                out[m, k, j] = 0.0
    return out


def weights(A: FloatArray, countries: Sequence[str], who: Sequence[str]) -> FloatArray:
    """``[M, K]`` summed share of the countries ``who`` (those not in ``countries`` have none)."""
    cols = [j for j, c in enumerate(countries) if c in set(who)]
    return A[:, :, cols].sum(axis=2) if cols else np.zeros(A.shape[:2])


def split(values: FloatArray, chosen: NDArray[np.int64], w: FloatArray) -> FloatArray:
    """``values [n, M]`` (loss per scenario and material, 0 where ``chosen < 0``) times ``w[m, chosen]``."""
    M = values.shape[1]
    return np.where(chosen >= 0, values * w[np.arange(M)[None, :], np.maximum(chosen, 0)], 0.0)


def per_member(
    values: FloatArray,
    chosen: NDArray[np.int64],
    A: FloatArray,
    countries: Sequence[str],
    members: Sequence[str],
) -> FloatArray:
    """``[n, members]``: each member's part of ``values`` summed over materials (one sparse product:
    the (scenario, material) losses placed at column ``material x K + chosen``, times ``A``)."""
    from scipy import sparse

    n, M = values.shape
    K = A.shape[1]
    pos = {c: j for j, c in enumerate(countries)}
    cols = [pos.get(m, -1) for m in members]
    have = np.array([c >= 0 for c in cols], dtype=bool)
    sub = A[:, :, [c for c in cols if c >= 0]].reshape(M * K, -1)
    rows, mats = np.nonzero(chosen >= 0)
    S = sparse.csr_matrix((values[rows, mats], (rows, mats * K + chosen[rows, mats])), shape=(n, M * K))
    out = np.zeros((n, len(members)))
    out[:, have] = np.asarray(S @ sub)
    return out
