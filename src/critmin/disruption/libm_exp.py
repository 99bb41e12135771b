"""``exp`` as glibc computes it, compiled inline into the kernel instead of called.

numba turns ``math.exp`` into a call to the C library through a stub: every call saves and restores the
caller's floating-point registers and keeps LLVM from overlapping independent exps. :func:`exp` is the
same algorithm, step for step, as glibc's ``exp`` (``sysdeps/ieee754/dbl-64/e_exp.c``, Szabolcs Nagy,
the version since glibc 2.28, in the fused multiply-add variant glibc selects on x86-64 CPUs with FMA):
``x = k ln2/128 + r``, ``exp(x) = 2^(k/128) exp(r)`` with a 128-entry table of ``2^(i/128)`` (value and
rounding tail) and a degree-5 polynomial for ``exp(r)``, the same constants and the same order of fused
operations (read from the disassembly of glibc 2.36's ``__exp_fma``). The results are bit-identical to
glibc's on that path; the few inputs of its slow path (``|x| < 2^-54``, ``|x| >= 512``, NaN) go to
``math.exp`` itself. ``tests/disruption/test_libm_exp.py`` checks the identity.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic

TABLE_BITS = 7
N = 1 << TABLE_BITS
# glibc sysdeps/ieee754/dbl-64/e_exp_data.c: N/ln2, -ln2/N split in two, the round-to-integer shift and
# the polynomial (abs error 1.555 * 2^-66); the same values as the library's data table
INV_LN2_N = float.fromhex("0x1.71547652b82fep0") * N
NEG_LN2_HI_N = float.fromhex("-0x1.62e42fefa0000p-8")
NEG_LN2_LO_N = float.fromhex("-0x1.cf79abc9e3b3ap-47")
SHIFT = float.fromhex("0x1.8p52")
C2, C3, C4, C5 = (
    float.fromhex(h)
    for h in ("0x1.ffffffffffdbdp-2", "0x1.555555555543cp-3", "0x1.55555cf172b91p-5", "0x1.1111167a4d017p-7")
)


def _table() -> tuple[np.ndarray, np.ndarray]:
    """glibc's table: ``2^(i/N) = H (1 + T)`` with ``H`` the nearest double; returns ``T`` and the bits
    of ``H`` less ``i << (52 - TABLE_BITS)`` (the exponent is added back from ``k``)."""
    tail, sbits = np.empty(N), np.empty(N, dtype=np.int64)
    with localcontext() as ctx:
        ctx.prec = 60
        for i in range(N):
            v = Decimal(2) ** (Decimal(i) / Decimal(N))
            h = float(v)
            tail[i] = float(v / Decimal(h) - 1)
            sbits[i] = struct.unpack("<q", struct.pack("<d", h))[0] - (i << (52 - TABLE_BITS))
    return tail, sbits


TAIL, SBITS = _table()


@intrinsic
def _bits_of(typingctx, x):  # type: ignore[no-untyped-def]  # numba's intrinsic protocol
    """The 64 bits of a double as an integer."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _double_of(typingctx, n):  # type: ignore[no-untyped-def]
    """The double whose 64 bits are the integer ``n``."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _fma(typingctx, a, b, c):  # type: ignore[no-untyped-def]
    """``a * b + c`` rounded once (LLVM's ``llvm.fma``)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


# the intrinsics as numba calls them from compiled code (typed for mypy; not callable from Python)
_bits = cast(Callable[[float], int], _bits_of)
_double = cast(Callable[[int], float], _double_of)
fma = cast(Callable[[float, float, float], float], _fma)


@njit(cache=True, error_model="numpy", inline="always")
def exp(x: float) -> float:
    """``math.exp(x)``, bit for bit (see the module docstring), without a call."""
    abstop = (_bits(x) >> 52) & 0x7FF
    if abstop < 969 or abstop > 1031:  # |x| < 2^-54, |x| >= 512, inf, NaN: glibc's special cases
        return math.exp(x)
    kd = fma(x, INV_LN2_N, SHIFT)
    ki = _bits(kd)
    kd = kd - SHIFT
    r = fma(kd, NEG_LN2_LO_N, fma(kd, NEG_LN2_HI_N, x))
    idx = ki & (N - 1)
    scale = _double(SBITS[idx] + (ki << (52 - TABLE_BITS)))
    r2 = r * r
    tmp = fma(r2 * r2, fma(r, C5, C4), fma(fma(r, C3, C2), r2, r + TAIL[idx]))
    return fma(scale, tmp, scale)
