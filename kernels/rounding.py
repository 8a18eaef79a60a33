"""Exact rounding of integer fen: half-up (四舍五入, away from zero) or half-even.

Every posted amount is an exact fraction `a·b·c / den` of integers (fen × scaled rate × days),
rounded once. Its numerator can pass 2**63, so `mul_div_round` estimates the quotient in
float64 and then fixes it with the *exact* remainder, computed in wrapping int64 arithmetic:
the remainder is small, so its value modulo 2**64 is its value. No floats reach the result.
"""

import math

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


# Below FAST_LIMIT fen (10.7 million yuan) the estimate's error is under 2**30 · 3.3e-16 (three
# roundings) plus half an ulp of x + 0.5: < 4.3e-7 fen, safely inside TIE_MARGIN.
TIE_MARGIN = 1e-6
FAST_LIMIT = 2.0**30


@jit
def mul_div_round_ratio(a, b, c, den, ratio, mode):
    """round(a·b·c / den) for non-negative inputs, given ratio = b / den precomputed in float64.

    The hot-path form of `mul_div_round`. The float estimate x = a·c·ratio is off by far less
    than TIE_MARGIN, so when x + 0.5 is not within TIE_MARGIN of an integer the rounding is
    already decided; only near a tie (or for huge values) is the exact remainder computed.
    Same result as `mul_div_round`, always.
    """
    x = float(a) * (float(c) * ratio)  # b·c·ratio is off the balance's dependency chain
    y = x + 0.5
    q = math.floor(y)
    frac = y - q
    if TIE_MARGIN < frac < 1.0 - TIE_MARGIN and x < FAST_LIMIT:
        return int(q)
    return _round_exact(int(x), a * (b * c), den, mode)


@jit
def round_to_multiple(x, multiple, mode):
    """Round a float amount in fen to an integer multiple of `multiple` fen (x >= 0)."""
    scaled = x if multiple == 1 else x / multiple  # x / 1.0 is x: skip the division (most loans)
    q = math.floor(scaled)
    frac = scaled - q
    if frac > 0.5 or (frac == 0.5 and (mode == HALF_UP or q % 2 == 1)):
        q += 1
    return int(q) * multiple
