"""Casting and checking loan columns, one pass each (the table boundary's hot path).

The API turns each input column into a plain array (a zero-copy view where Arrow allows) and
these kernels do the element-wise work: money to integer fen, rates to scaled integers, and
every per-loan rule of `accrual.schema.prepare_loans` at once, as one bit per rule in a flags
word. Python only reads the flags when some loan broke a rule (`LOAN_RULES` names the bits), so
a clean table costs one pass, not one NumPy pass per rule.

A book's servicing state (`check_state`) and its unpaid records (`unpaid_field`) are read in
place instead: straight from their Arrow buffers (Decimal128 words, date32 days, Enum codes,
validity bitmaps; `accrual.buffers` cuts them where the chunks are), cast and checked in one
pass, so no per-column temporaries are made at all. A loans table's own columns are read in place
too (`check_loans_in_place`), and `schedule` goes one step further: `fill_schedule_in_place`
(and `apr`'s `fill_cost_in_place`) checks a block of loans from their buffers into a scratch that
stays in cache (`checked_block`) and uses them at once, so a clean table's casts never reach memory.

These passes are serial kernels: they are bound by memory, not arithmetic, and on two cores
`parallel=True` saved 5 ms of 45 at a million loans while adding 4 s to the first (uncached)
compile. `check_loans` and `check_state`, the widest, take a range of loans so the API can run
them on all cores from threads (`accrual.threads`), which costs no compile.
"""

import math

import numpy as np

from ._config import inline_jit, jit
from .amortize import DAY, RATE_SCALE, REDUCE_TERM, loan_schedule
from .dates import NO_DATE
from .daycount import year_days
from .ledger import ACTIVE

# Amounts up to 10^16 - 1 fen (10^14 yuan, 14 digits before the point): inside Decimal(18, 2),
# with ≈ 900× headroom left in int64 fen for the sums and carries the kernels keep.
MAX_FEN = 10**16 - 1
MAX_RATE_MAGNITUDE = 2.0**62  # a scaled rate beyond this is NaN, infinite or absurd: -1 (rejected)
MAX_DAILY_NUM = RATE_SCALE // 100  # a daily rate of 1% or more is absurd (SPEC.md section 8)
MAX_TERM_MONTHS = 600  # 50 years: keeps exact accrual denominators in int64
MAX_TERM_DAYS = 18_300
TERM_CLIP = 10**6

# One bit per rule, in the order the rules are reported. Bit 1 (duplicate ids) is found by the
# API (it needs the whole column), the others here.
(
    ID_MISSING, ID_DUPLICATE, METHOD_UNKNOWN, TERM_UNIT_UNKNOWN, DAY_COUNT_UNKNOWN, BASIS_UNKNOWN,
    ROUNDING_UNKNOWN, PRINCIPAL_MISSING, PRINCIPAL_OVERFLOW, PRINCIPAL_NOT_POSITIVE, RATE_MISSING,
    RATE_DISAGREES, RATE_NEGATIVE, RATE_ABSURD, TERM_MISSING, TERM_NOT_WHOLE, TERM_BELOW_ONE, TERM_TOO_LONG,
    DISBURSED_MISSING, FIRST_DUE_NOT_AFTER, FIRST_DUE_DAY_TERM, MULTIPLE_NEGATIVE, FEE_RANGE, UPFRONT_RANGE,
    FREE_DAYS_NEGATIVE,
) = range(25)  # fmt: skip
RULES = FREE_DAYS_NEGATIVE + 1


@inline_jit
def _bit(byte, s):
    """Bit s of an Arrow validity (or boolean) bitmap, given its byte s // 8: set for a value
    that is there (not null), or true."""
    return (np.int64(byte) >> np.int64(s & np.uint64(7))) & 1 == 1


@inline_jit
def _fen(low, high, multiplier, minimum):
    """(fen, bad) of a Decimal128 value (its two words) of scale 2 or less: the unscaled value ×
    `multiplier` (100 for scale 0); bad, and 0, where it is beyond ±MAX_FEN or below
    `minimum` fen. No short circuits: no branches."""
    limit = MAX_FEN // multiplier
    fen = low * multiplier
    bad = (high != (low >> 63)) | (low > limit) | (low < -limit) | (fen < minimum)
    return (0 if bad else fen), bad


@inline_jit
def _scaled(value):
    """A rate (fraction) × RATE_SCALE, rounded half-even; NaN, infinities and absurd magnitudes
    -1, which validation rejects."""
    scaled = np.rint(value * RATE_SCALE)
    return np.int64(scaled) if abs(scaled) <= MAX_RATE_MAGNITUDE else -1


@jit
def fen_from_decimal(words, offset, multiplier, minimum, out_fen, out_bad):
    """Integer fen from Decimal128 values of scale 2 or less (two int64 words each,
    little-endian) from value `offset` on: the unscaled value × `multiplier` (100 for scale 0).
    Values beyond ±MAX_FEN, or below `minimum` fen, are flagged and become 0."""
    for i in range(out_fen.shape[0]):
        r = np.uint64(2 * (offset + i))  # unsigned: no negative-index wraparound
        out_fen[i], out_bad[i] = _fen(words[r], words[r + np.uint64(1)], multiplier, minimum)


@jit
def fen_from_float(values, minimum, out_fen, out_bad):
    """Integer fen from float yuan: first rounded to a millionth of a fen (so 1.005, stored as
    1.00499999…, is the tie it was written as), then half-up. NaN, infinities, amounts
    beyond ±MAX_FEN and amounts below `minimum` fen are flagged and become 0."""
    for i in range(values.shape[0]):
        cents = np.rint(values[i] * 100.0 * 1e6) / 1e6  # as numpy's round(x, 6)
        fen = 0
        if abs(cents) <= MAX_FEN:  # false for NaN too
            fen = math.floor(abs(cents) + 0.5)
        bad = not (abs(cents) <= MAX_FEN) or fen > MAX_FEN
        fen = -fen if cents < 0 else fen
        bad = bad or fen < minimum
        out_fen[i] = 0 if bad else fen
        out_bad[i] = bad


@jit
def scaled_rates(values, bits, offset, out):
    """Rates (fractions) from value `offset` of `values` on, as integers scaled by RATE_SCALE,
    rounded half-even; nulls (bit `offset + i` of the validity bitmap `bits` clear; `bits` empty
    when there are none) become 0, NaN, infinities and absurd magnitudes -1, which validation
    rejects."""
    for i in range(out.shape[0]):
        s = np.uint64(offset + i)  # unsigned: no negative-index wraparound test
        rate = _scaled(values[s])  # (scaled always, then zeroed: a branch around it cost 4×)
        if bits.shape[0] > 0 and not _bit(bits[s >> np.uint64(3)], s):
            rate = 0
        out[i] = rate


@inline_jit
def _loan_rules(
    id_missing, method, unit, count, basis, rounding, principal, overflow, gone, annual, annual_given, daily,
    daily_given, t, term_missing, disbursed, undated, first, m, m_overflow, fee, upfront, free,
):  # fmt: skip
    """(rule bits, annual rate, whole term, installment multiple) of one loan's values, as
    `check_loans` documents them. Scalars only, so inlined it costs no reference counts; each
    rule a bit shifted into place, not a branch."""
    flags = (
        (np.int64(id_missing) << ID_MISSING)
        | (np.int64(method < 0) << METHOD_UNKNOWN)
        | (np.int64(unit < 0) << TERM_UNIT_UNKNOWN)
        | (np.int64(count < 0) << DAY_COUNT_UNKNOWN)
        | (np.int64(basis < 0) << BASIS_UNKNOWN)
        | (np.int64(rounding < 0) << ROUNDING_UNKNOWN)
    )
    flags |= (np.int64(gone) << PRINCIPAL_MISSING) | (np.int64(overflow) << PRINCIPAL_OVERFLOW)
    flags |= np.int64(not overflow and not gone and principal <= 0) << PRINCIPAL_NOT_POSITIVE

    days = year_days(count)
    from_daily = daily * days
    rate = annual if annual_given else from_daily
    flags |= (
        (np.int64(not annual_given and not daily_given) << RATE_MISSING)
        | (np.int64(annual_given and daily_given and annual != from_daily) << RATE_DISAGREES)
        | (np.int64(rate < 0) << RATE_NEGATIVE)
        | (np.int64(rate >= MAX_DAILY_NUM * days) << RATE_ABSURD)
    )

    flags |= (np.int64(term_missing) << TERM_MISSING) | (
        np.int64(t != math.floor(t)) << TERM_NOT_WHOLE
    )  # NaN too
    whole = np.int64(min(max(0.0 if math.isnan(t) else t, -1.0), float(TERM_CLIP)))
    longest = MAX_TERM_DAYS if unit == DAY else MAX_TERM_MONTHS
    flags |= (np.int64(whole < 1) << TERM_BELOW_ONE) | (np.int64(whole > longest) << TERM_TOO_LONG)

    dated_first = first != NO_DATE
    flags |= (
        (np.int64(undated) << DISBURSED_MISSING)
        | (np.int64(dated_first and not undated and first <= disbursed) << FIRST_DUE_NOT_AFTER)
        | (np.int64(dated_first and unit == DAY) << FIRST_DUE_DAY_TERM)
    )
    flags |= np.int64(m_overflow or m < 0) << MULTIPLE_NEGATIVE
    flags |= (
        (np.int64(fee < 0 or fee >= RATE_SCALE) << FEE_RANGE)
        | (np.int64(upfront < 0 or upfront >= RATE_SCALE) << UPFRONT_RANGE)
        | (np.int64(free < 0) << FREE_DAYS_NEGATIVE)
    )
    return flags, max(rate, 0), whole, max(m, 1)


@jit
def check_loans(
    lo, hi, id_missing, method, term_unit, day_count, basis, rounding, principal, principal_overflow,
    principal_missing, annual, has_annual, daily, has_daily, term, term_missing, disbursed_on,
    disbursed_missing, first_due_on, multiple, multiple_overflow, fee_num, upfront_num, free_days,
    out_annual_num, out_term, out_multiple, out_flags,
):  # fmt: skip
    """Every per-loan rule at once, for loans lo:hi: bit b of out_flags[i] is set when loan i
    breaks rule b.

    Also casts what the rules decide: the annual rate (from `daily` × year days where no annual
    rate is given; 0 when negative), the term as an integer (NaN → 0, clipped), the installment
    multiple (at least one fen).
    """
    # unsigned indices (no negative-index wraparound test on each of ~25 arrays a loan) and
    # each rule a bit shifted into place, not a branch: 27.6 → 6.8 ns a loan on one core (1M book)
    for i in range(lo, hi):
        u = np.uint64(i)
        out_flags[u], out_annual_num[u], out_term[u], out_multiple[u] = _loan_rules(
            id_missing[u], method[u], term_unit[u], day_count[u], basis[u], rounding[u], principal[u],
            principal_overflow[u], principal_missing[u], annual[u], has_annual[u], daily[u], has_daily[u],
            term[u], term_missing[u], disbursed_on[u], disbursed_missing[u], first_due_on[u], multiple[u],
            multiple_overflow[u], fee_num[u], upfront_num[u], free_days[u],
        )  # fmt: skip


# The loans' columns `check_loans_in_place` reads where they lie, in `validity` / `starts` order.
(
    LOAN_PRINCIPAL,
    LOAN_MULTIPLE,
    LOAN_ANNUAL,
    LOAN_DAILY,
    LOAN_FEE,
    LOAN_UPFRONT,
    LOAN_TERM,
    LOAN_FREE_DAYS,
) = range(8)


@jit
def check_loans_in_place(
    lo, hi, id_missing, method, term_unit, day_count, basis, rounding, disbursed_on, disbursed_missing,
    first_due_on, money, rates, given, term, free_days, validity, starts,
    out_principal, out_annual_num, out_term, out_multiple, out_fee_num, out_upfront_num, out_free_days, out_flags,
):  # fmt: skip
    """`check_loans` for loans lo:hi reading the money, rate and count columns from their Arrow
    buffers (`money`: principal and installment multiple, Decimal128 of scale 2, two int64 words
    a value; `rates`: annual, daily, installment fee, upfront fee as float64; `term` and
    `free_days` integers), so no converted copy of them is made first; it writes the casts
    `to_fen`, `to_rate` and the term and free-days casts made (nulls: a missing principal or
    term, a missing rate, a 0 fee, free days -1) at i - lo of the outputs (they hold loans lo:hi).
    Loan i's value of column k is number `starts[k] + i - lo` (`LOAN_*` order), its validity bit
    in `validity[k]` (empty: none null); `given[j]` is whether rate column j exists at all. The
    other arguments are per loan (loan i at i), as for `check_loans`.
    """
    principal, multiple = money
    annual, daily, fee, upfront = rates
    has_annual, has_daily = given
    v = validity  # (unpacked out of the loop: one reference each, not one a loan)
    vp, vm, va, vd, vf, vu, vt, vr = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
    for i in range(lo, hi):
        u, r = np.uint64(i), i - lo
        o = np.uint64(r)  # where loan i's casts go
        sp, sm = np.uint64(starts[LOAN_PRINCIPAL] + r), np.uint64(starts[LOAN_MULTIPLE] + r)
        sa, sd = np.uint64(starts[LOAN_ANNUAL] + r), np.uint64(starts[LOAN_DAILY] + r)
        sf, su = np.uint64(starts[LOAN_FEE] + r), np.uint64(starts[LOAN_UPFRONT] + r)
        st, sr = np.uint64(starts[LOAN_TERM] + r), np.uint64(starts[LOAN_FREE_DAYS] + r)
        p_ok = vp.shape[0] == 0 or _bit(vp[sp >> np.uint64(3)], sp)
        m_ok = vm.shape[0] == 0 or _bit(vm[sm >> np.uint64(3)], sm)
        a_ok = has_annual and (va.shape[0] == 0 or _bit(va[sa >> np.uint64(3)], sa))
        d_ok = has_daily and (vd.shape[0] == 0 or _bit(vd[sd >> np.uint64(3)], sd))
        f_ok = vf.shape[0] == 0 or _bit(vf[sf >> np.uint64(3)], sf)
        u_ok = vu.shape[0] == 0 or _bit(vu[su >> np.uint64(3)], su)
        t_ok = vt.shape[0] == 0 or _bit(vt[st >> np.uint64(3)], st)
        r_ok = vr.shape[0] == 0 or _bit(vr[sr >> np.uint64(3)], sr)
        fen, p_bad = _fen(principal[sp + sp], principal[sp + sp + np.uint64(1)], 1, -MAX_FEN)
        m_fen, m_bad = _fen(multiple[sm + sm], multiple[sm + sm + np.uint64(1)], 1, -MAX_FEN)
        annual_num = _scaled(annual[sa]) if a_ok else 0
        daily_num = _scaled(daily[sd]) if d_ok else 0
        fee_num = _scaled(fee[sf]) if f_ok else 0
        upfront_num = _scaled(upfront[su]) if u_ok else 0
        t = np.float64(term[st]) if t_ok else 1.0
        free = np.int64(free_days[sr]) if r_ok else -1
        out_principal[o], out_fee_num[o], out_upfront_num[o], out_free_days[o] = (
            fen,
            fee_num,
            upfront_num,
            free,
        )
        out_flags[o], out_annual_num[o], out_term[o], out_multiple[o] = _loan_rules(
            id_missing[u], method[u], term_unit[u], day_count[u], basis[u], rounding[u], fen, p_bad and p_ok,
            not p_ok, annual_num, a_ok, daily_num, d_ok, t, not t_ok, disbursed_on[u], disbursed_missing[u],
            first_due_on[u], m_fen, m_bad or not m_ok, fee_num, upfront_num, free,
        )  # fmt: skip


CHECK_BLOCK = 1024  # loans checked at a time by the fused kernels: their casts stay in L1/L2


@jit
def checked_block(
    b, e, lo, id_missing, method, term_unit, day_count, basis, rounding, disbursed_on, disbursed_missing,
    first_due_on, money, rates, given, term, free_days, validity, starts, at, cast, out_flags,
):  # fmt: skip
    """Check loans b:e of a piece of loans lo:hi (`check_loans_in_place`'s arguments for the piece)
    into `cast` ((7, CHECK_BLOCK): principal, annual_num, term, multiple, fee_num, upfront_num,
    free days; `at` is scratch for the block's `starts`); returns their rule flags, the view of
    out_flags (the piece's) that holds them. A fused kernel then uses the good loans' casts while
    they are in cache: they never go to memory and back (≈ 60 bytes a loan each way)."""
    for k in range(starts.shape[0]):
        at[k] = starts[k] + b - lo
    flags = out_flags[b - lo : e - lo]
    check_loans_in_place(
        b, e, id_missing, method, term_unit, day_count, basis, rounding, disbursed_on, disbursed_missing,
        first_due_on, money, rates, given, term, free_days, validity, at,
        cast[0], cast[1], cast[2], cast[3], cast[4], cast[5], cast[6], flags,
    )  # fmt: skip
    return flags


@jit
def fill_schedule_in_place(
    lo, hi, offsets, loan_id, id_missing, method, term_unit, day_count, basis, rounding, disbursed_on,
    disbursed_missing, first_due_on, money, rates, given, term, free_days, validity, starts,
    out_flags, out_loan_id, out_period, out_due_on, out_money,
):  # fmt: skip
    """`fill_schedule` for loans lo:hi straight from the loans' Arrow buffers (the arguments of
    `check_loans_in_place`, then `fill_schedule`'s outputs), checked a block at a time
    (`checked_block`). out_flags[i - lo] gets loan i's rule bits; a loan with any is not written
    (the caller then takes the checked path, which names what broke).
    """
    cast = np.empty((7, CHECK_BLOCK), dtype=np.int64)
    at = np.empty_like(starts)
    for b in range(lo, hi, CHECK_BLOCK):
        e = min(b + CHECK_BLOCK, hi)
        flags = checked_block(
            b, e, lo, id_missing, method, term_unit, day_count, basis, rounding, disbursed_on, disbursed_missing,
            first_due_on, money, rates, given, term, free_days, validity, starts, at, cast, out_flags,
        )  # fmt: skip
        for i in range(b, e):
            j = i - b
            if flags[j] == 0:
                loan_schedule(
                    offsets[i], loan_id[i], cast[0, j], cast[1, j], cast[2, j], term_unit[i], disbursed_on[i],
                    first_due_on[i], method[i], day_count[i], basis[i], cast[3, j], rounding[i], cast[4, j],
                    cast[6, j], 0, 0, REDUCE_TERM, False, out_loan_id, out_period, out_due_on, out_money,
                )  # fmt: skip


# The book state's rules (`accrual.schema.book_state`), one bit each in the order they are
# reported: accrued_through before disbursement; each money column (STATE_MONEY order) not an
# amount >= 0; status unknown; next_due_on missing while principal is outstanding;
# period_start, accruing_since missing; each count (installments_left, period_weight,
# settled_balance_days) not a whole number >= 0. Every rule is for serviced loans only.
N_STATE_NARROW = (
    6  # int32: accrued_through, next_due_on, period_start, accruing_since, prepaid_on, installments_left
)
N_STATE_MONEY = 7  # Decimal(18, 2): STATE_MONEY
N_STATE_WIDE = 2  # int64: period_weight, settled_balance_days
STATE_THROUGH_EARLY = 0
STATE_MONEY_BAD = 1  # + the money column's index
STATE_STATUS_UNKNOWN = STATE_MONEY_BAD + N_STATE_MONEY
STATE_NEXT_DUE_MISSING = STATE_STATUS_UNKNOWN + 1
STATE_PERIOD_START_MISSING = STATE_NEXT_DUE_MISSING + 1
STATE_ACCRUING_SINCE_MISSING = STATE_PERIOD_START_MISSING + 1
STATE_COUNT_BAD = STATE_ACCRUING_SINCE_MISSING + 1  # + 0 installments_left, 1 period_weight, 2 settled
STATE_RULES = STATE_COUNT_BAD + 3
STATE_BLOCK = 1024  # loans a column at a time: each column streams, the block's outputs stay in L1/L2


# Each block helper runs one column over a block of loans, as straight code that vectorises:
# `_nulls_block` first spreads the column's validity bits into a byte a loan. A call per block
# and column costs nothing, where a helper per value would cost reference counts.
@jit
def _nulls_block(b0, b1, s0, bits, missing):
    """missing[i - b0] = 1 where loan i's value is null (bit s0 + i of `bits` clear): all 0 for
    a column without nulls (`bits` empty)."""
    if bits.shape[0] == 0:
        missing[:] = 0
        return
    for i in range(b0, b1):
        s = np.uint64(s0 + i)  # unsigned indices: no negative-index wraparound test
        missing[np.uint64(i - b0)] = not _bit(bits[s >> np.uint64(3)], s)


@jit
def _money_block(b0, b1, s0, words, missing, fresh, into, flags, bit):
    """Decimal128 (scale 2) → fen, 0 where null, negative or beyond MAX_FEN (a rule)."""
    for i in range(b0, b1):
        s, u = np.uint64(s0 + i), np.uint64(i)
        fen, wrong = _fen(words[s + s], words[s + s + np.uint64(1)], 1, 0)
        bad = np.int64(missing[u - np.uint64(b0)]) | wrong
        into[u] = fen * (1 - bad)
        flags[u] |= (bad & (1 - np.int64(fresh[u]))) << bit


@jit
def _date_block(b0, b1, s0, values, missing, fresh, into, flags, bit, checked):
    """Days, NO_DATE where null; a null breaks rule `bit` when `checked`."""
    for i in range(b0, b1):
        s, u = np.uint64(s0 + i), np.uint64(i)
        gone = np.int64(missing[u - np.uint64(b0)])
        into[u] = values[s] * (1 - gone) + NO_DATE * gone
        flags[u] |= (gone & (1 - np.int64(fresh[u])) & checked) << bit


@jit
def _count_block(b0, b1, s0, values, missing, fresh, into, flags, bit):
    """A count, 0 where null; null or negative breaks a rule."""
    for i in range(b0, b1):
        s, u = np.uint64(s0 + i), np.uint64(i)
        gone = np.int64(missing[u - np.uint64(b0)])
        value = values[s] * (1 - gone)
        into[u] = value
        flags[u] |= ((gone | (value < 0)) & (1 - np.int64(fresh[u]))) << bit


@jit
def check_state(
    lo, hi, disbursed_on, narrow, money, wide, status, status_lookup, validity, starts,
    out_fresh, out_narrow, out_money, out_wide, out_status, out_flags,
):  # fmt: skip
    """Cast and check the book state of loans lo:hi in one pass over the Arrow buffers
    themselves; return the OR of the loans' rule bits (`STATE_RULES`).

    `narrow` (int32: dates as days, then installments_left), `money` (Decimal128 of scale 2,
    two int64 words a value) and `wide` (int64) hold each column's values, `status` its Enum
    codes (`status_lookup` maps them to `Status`, its last entry -1). Loan i is value
    `starts[k] + i - lo` of column k, counted narrow, money, wide, status, and bit
    `starts[k] + i - lo` of `validity[k]`, its Arrow validity bitmap (empty when it has no
    nulls). A null `accrued_through` is a fresh loan, whose state is not checked. Outputs are
    indexed by loan, `out_narrow`, `out_money` and `out_wide` a column each as the inputs:
    nulls become NO_DATE or 0, bad amounts 0, unknown statuses 0, and out_flags[i] has bit b
    set when loan i breaks rule b.
    """
    seen = 0
    status_at = N_STATE_NARROW + N_STATE_MONEY + N_STATE_WIDE
    unknown = status_lookup.shape[0] - 1
    principal = out_money[0]  # principal_outstanding: what falls due on next_due_on
    missing = np.empty(STATE_BLOCK, dtype=np.uint8)
    for b0 in range(lo, hi, STATE_BLOCK):
        b1 = min(b0 + STATE_BLOCK, hi)
        # accrued_through first: whether the loan is fresh decides every rule after it
        _nulls_block(b0, b1, starts[0] - lo, validity[0], missing)
        s0, values, into = starts[0] - lo, narrow[0], out_narrow[0]
        for i in range(b0, b1):
            s, u = np.uint64(s0 + i), np.uint64(i)
            fresh = np.int64(missing[u - np.uint64(b0)])
            day = values[s] * (1 - fresh) + NO_DATE * fresh
            out_fresh[u] = fresh
            into[u] = day
            out_flags[u] = ((1 - fresh) & (day < disbursed_on[u] - 1)) << STATE_THROUGH_EARLY
        for k in range(N_STATE_MONEY):
            j = N_STATE_NARROW + k
            _nulls_block(b0, b1, starts[j] - lo, validity[j], missing)
            _money_block(b0, b1, starts[j] - lo, money[k], missing, out_fresh, out_money[k], out_flags,
                         STATE_MONEY_BAD + k)  # fmt: skip
        _nulls_block(b0, b1, starts[status_at] - lo, validity[status_at], missing)
        s0 = starts[status_at] - lo
        for i in range(b0, b1):
            s, u = np.uint64(s0 + i), np.uint64(i)
            code = status_lookup[unknown if missing[u - np.uint64(b0)] else min(status[s], unknown)]
            out_status[u] = max(code, 0)
            owed = (code == ACTIVE) & (principal[u] > 0)  # its rule's bit is cleared below if dated
            serviced = 1 - np.int64(out_fresh[u])
            out_flags[u] |= (
                ((code < 0) << STATE_STATUS_UNKNOWN) | (owed << STATE_NEXT_DUE_MISSING)
            ) * serviced
        for k in range(1, N_STATE_NARROW - 1):  # next_due_on, period_start, accruing_since, prepaid_on
            _nulls_block(b0, b1, starts[k] - lo, validity[k], missing)
            current = k == 2 or k == 3  # period_start, accruing_since: every serviced loan has a period
            rule = STATE_PERIOD_START_MISSING + k - 2 if current else 0
            _date_block(b0, b1, starts[k] - lo, narrow[k], missing, out_fresh, out_narrow[k], out_flags, rule,
                        current)  # fmt: skip
            if k == 1:  # next_due_on: owed and dated is as it should be
                for i in range(b0, b1):
                    u = np.uint64(i)
                    out_flags[u] &= ~((1 - np.int64(missing[u - np.uint64(b0)])) << STATE_NEXT_DUE_MISSING)
        k = N_STATE_NARROW - 1
        _nulls_block(b0, b1, starts[k] - lo, validity[k], missing)
        _count_block(b0, b1, starts[k] - lo, narrow[k], missing, out_fresh, out_narrow[k], out_flags,
                     STATE_COUNT_BAD)  # fmt: skip
        for k in range(N_STATE_WIDE):
            j = N_STATE_NARROW + N_STATE_MONEY + k
            _nulls_block(b0, b1, starts[j] - lo, validity[j], missing)
            _count_block(b0, b1, starts[j] - lo, wide[k], missing, out_fresh, out_wide[k], out_flags,
                         STATE_COUNT_BAD + 1 + k)  # fmt: skip
        for i in range(b0, b1):
            seen |= out_flags[np.uint64(i)]
    return seen


@jit
def unpaid_lengths(first, list_offsets, list_bits, list_start, fresh, out):
    """Records each of loans first: of a book holds in its `unpaid` list (one Arrow chunk of it,
    `list_bits` its validity, empty for none): none for a fresh loan (its records are not its
    state) or a null list."""
    for i in range(list_offsets.shape[0] - 1):
        g, s = first + i, np.uint64(list_start + i)
        listed = list_bits.shape[0] == 0 or _bit(list_bits[s >> np.uint64(3)], s)
        out[g] = (list_offsets[i + 1] - list_offsets[i]) * (listed and not fresh[g])


# What `unpaid_field` reads: a fixed-width value (date, count), a Decimal128 amount (two words,
# checked by `_fen` with minimum 0), a boolean (a bit), or only whether the record itself is null.
VALUE, AMOUNT, FLAG, PRESENT = 0, 1, 2, 3


@jit
def unpaid_field(kind, values, bits, start, count, out_row, bad):
    """One field of `count` consecutive `unpaid` records into `out_row`: record r's value is
    `values`' number `start + r`, its validity bit in `bits` (empty: none null). bad[r] is set
    where the value is null, or not an amount in 0..MAX_FEN fen. One field at a
    time, so each loop reads one stream."""
    for r in range(count):
        s = np.uint64(start + r)  # unsigned: no negative-index wraparound test
        ok = bits.shape[0] == 0 or _bit(bits[s >> np.uint64(3)], s)
        if kind == AMOUNT:
            fen, wrong = _fen(np.int64(values[s + s]), np.int64(values[s + s + np.uint64(1)]), 1, 0)
            ok = ok and not wrong
            out_row[r] = fen
        elif kind == FLAG:
            out_row[r] = _bit(values[s >> np.uint64(3)], s)
        elif kind == VALUE:
            out_row[r] = values[s]
        bad[r] |= not ok
