"""The kernel's inlined exp is glibc's exp bit for bit (so the kernel's results do not move)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from critmin.disruption.libm_exp import exp


@njit(cache=False)
def _both(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inline, called = np.empty_like(x), np.empty_like(x)
    for i in range(x.size):
        inline[i], called[i] = exp(x[i]), math.exp(x[i])
    return inline, called


def _same_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


def test_inline_exp_is_bit_identical_to_the_library() -> None:
    rng = np.random.default_rng(19)
    x = np.concatenate(
        [
            rng.uniform(-3.0, 3.0, 400_000),  # the kernel's range: elasticity x log price
            rng.uniform(-800.0, 800.0, 100_000),  # overflow, underflow and subnormal results
            np.exp(rng.uniform(-60.0, 6.5, 100_000)) * rng.choice([-1.0, 1.0], 100_000),  # tiny to large
            [0.0, -0.0, math.inf, -math.inf, math.nan, 2.0**-54, -(2.0**-54), 2.0**-53, 512.0, -512.0],
            [np.nextafter(512.0, 0.0), 709.78, 709.79, -708.4, -745.1, 5e-324, 1e-300],
        ]
    )
    inline, called = _both(x)
    assert _same_bits(inline, called).all(), x[~_same_bits(inline, called)][:5]
    python = np.array([math.exp(v) for v in x[:1000]])  # and CPython's math.exp (the same library)
    assert _same_bits(inline[:1000], python).all()
