"""Exact rounding of integer fen: half-up (四舍五入, away from zero) or half-even.

Every posted amount is an exact fraction `a·b·c / den` of integers (fen × scaled rate × days),
rounded once. Its numerator can pass 2**63, so `mul_div_round` estimates the quotient in
float64 and then fixes it with the *exact* remainder, computed in wrapping int64 arithmetic:
the remainder is small, so its value modulo 2**64 is its value. No floats reach the result.
"""

import math

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._config import jit

HALF_UP = 0
HALF_EVEN = 1


@jit
def _round_quotient(q, r, den, mode):
    """Round q + r/den (0 <= r < den) to an integer."""
    other = den - r  # compared with r instead of 2·r, which could overflow for den > 2**62
    if r > other or (r == other and (mode == HALF_UP or q % 2 == 1)):
        return q + 1
    return q


@jit
def _round_exact(q, numerator, den, mode):
    """round(numerator / den) given an estimate q within a few units of the true quotient.

    The remainder numerator − q·den is computed in wrapping int64: the true remainder is small,
    so its value modulo 2**64 is its value, even when the numerator itself overflowed.
    """
    r = numerator - q * den
    while r < 0:
        q -= 1
        r += den
    while r >= den:
        q += 1
        r -= den
    return _round_quotient(q, r, den, mode)


@jit
def div_round(num, den, mode):
    """round(num / den) for integers, den > 0; symmetric around zero.

    >>> from accrual.kernels.rounding import div_round, HALF_UP, HALF_EVEN
    >>> div_round(5, 2, HALF_UP), div_round(5, 2, HALF_EVEN), div_round(-5, 2, HALF_UP)
    (3, 2, -3)
    """
    a = -num if num < 0 else num
    q = _round_quotient(a // den, a % den, den, mode)
    return -q if num < 0 else q


@jit
def mul_div_round(a, b, c, den, mode):
    """round(a·b·c / den) exactly, for int64 inputs whose exact quotient is below 2**52.

    >>> from accrual.kernels.rounding import mul_div_round, HALF_UP
    >>> # 1 yuan at 0.05%/day (rate scaled by 1e12) for 10 days is exactly half a fen
    >>> mul_div_round(100, 500_000_000, 10, 10**12, HALF_UP)
    1
    """
    negative = (a < 0) ^ (b < 0) ^ (c < 0)
    a, b, c = abs(a), abs(b), abs(c)
    q = _round_exact(math.floor(float(a) * float(b) * float(c) / float(den)), a * b * c, den, mode)
    return -q if negative else q


@intrinsic
def multiply_add(typingctx, a, b, c):
    """a·b + c in float64, fused into one FMA instruction (one rounding) where the CPU has one.

    LLVM's `fmuladd`: fused or not, the result differs by at most one rounding, which the
    estimates below allow for; on the balance's chain it saves the add's latency.
    """

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        fmuladd = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(double, [double, double, double]), "llvm.fmuladd.f64"
        )
        return builder.call(fmuladd, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


# The estimate y of a·b·c/den + 0.5 carries at most four roundings (b/den, c·ratio, float(a) above
# 2**53, the product when not fused: 4.5e-16 relative), so below FAST_LIMIT fen (10.7 million
# yuan) it is off by < 2**30 · 4.5e-16 plus half an ulp of y: < 5.5e-7 fen, inside TIE_MARGIN.
TIE_MARGIN = 1e-6
FAST_LIMIT = 2.0**30


@jit
def mul_div_round_ratio(a, b, c, den, ratio, mode):
    """round(a·b·c / den) for non-negative inputs, given ratio = b / den precomputed in float64.

    The hot-path form of `mul_div_round`. The float estimate y = a·c·ratio + 0.5 is off by far
    less than TIE_MARGIN, so when y is not within TIE_MARGIN of an integer the rounding is
    already decided; only near a tie (or for huge values) is the exact remainder computed.
    Same result as `mul_div_round`, always.

    >>> from accrual.kernels.rounding import mul_div_round_ratio, HALF_UP, HALF_EVEN
    >>> annual, den = 18 * 10**10, 12 * 360 * 10**12  # 18% a year (0.05%/day) on ACT/360: a day weighs 12
    >>> mul_div_round_ratio(1_234, annual, 12 * 30, den, annual / den, HALF_UP)  # 12.34 yuan, 30 days: 18.51 fen
    19
    >>> [mul_div_round_ratio(100, annual, 12 * 10, den, annual / den, m) for m in (HALF_UP, HALF_EVEN)]  # 0.5 fen
    [1, 0]
    """
    # The balance's chain runs through here (balance → interest → principal → balance): c·ratio
    # is off it, the multiply and the 0.5 are one instruction, and truncating y > 0 is flooring it
    # (the floor that decides the tie test is computed beside the chain, not on it).
    y = multiply_add(float(a), float(c) * ratio, 0.5)
    frac = y - math.floor(y)
    if TIE_MARGIN < frac < 1.0 - TIE_MARGIN and y < FAST_LIMIT:
        return int(y)
    return _round_exact(int(y - 0.5), a * (b * c), den, mode)


@jit
def round_to_multiple(x, multiple, mode):
    """Round a float amount in fen to an integer multiple of `multiple` fen (x >= 0)."""
    scaled = x if multiple == 1 else x / multiple  # x / 1.0 is x: skip the division (most loans)
    q = math.floor(scaled)
    frac = scaled - q
    if frac > 0.5 or (frac == 0.5 and (mode == HALF_UP or q % 2 == 1)):
        q += 1
    return int(q) * multiple
