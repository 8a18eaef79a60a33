"""Roll-rate stress projection (SPEC.md section 11): each loan steps through its installments
due from the start date as `current`, `delinquent(b)`, `charged_off`, `prepaid` or `matured`.

A loan's rows are its installments from the shared period step (`accrual.schedule` of the
book), optionally preceded by `first[i]` installments it has already missed. Delinquency is a
run of consecutive misses, so in `delinquent(b)` at step m (row r) the missed installments are
exactly rows r − b … r − 1 (after maturity: up to the last row), and the principal not repaid is
the balance before row r − b. That makes every amount a function of (loan, step, b): the
expected values propagate a probability per state, Monte Carlo draws one path at a time.

Accumulators hold, per step, the METRICS below (float64 fen); the API turns them into yuan,
net interest income and NPL ratios.
"""

import numpy as np
from numba import prange

from ._config import inline_jit, jit, parallel_jit
from .dates import month_date, month_index
from .rounding import mul_div_round, mul_div_round_ratio

BALANCE = 0  # principal not repaid at the end of the step, all live states
CURRENT = 1
M1 = 2
M2 = 3
M3 = 4
M3_PLUS = 5
COLLECTED_PRINCIPAL = 6
COLLECTED_INTEREST = 7
COLLECTED_PENALTY = 8
COLLECTED_FEE = 9
CHARGED_OFF = 10
RECOVERED = 11
BALANCE_START = 12  # principal not repaid at the start of the step (for funding cost)
METRICS = 13
MAX_STATES = 64  # charge_off_after is at most this
MAX_ROWS = 1024  # rows of one loan: schedules have at most 600, plus those already missed
PATH_GROUP = 8  # Monte Carlo paths that share a pass over a block of loans
LOAN_BLOCK = 2048  # loans whose rows stay in cache while a group of paths walks them

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)


@jit
def mix(z):
    """SplitMix64's finaliser: a bijection of uint64 that scrambles every bit."""
    z = (z ^ (z >> np.uint64(30))) * MIX_1
    z = (z ^ (z >> np.uint64(27))) * MIX_2
    return z ^ (z >> np.uint64(31))


@jit
def path_stream(seed, scenario, path):
    """The random stream of one (seed, scenario, path); a loan's is mix(stream ^ loan key).
    Counter-based: a loan's path does not depend on which thread or batch simulates it."""
    z = mix(np.uint64(seed) + GOLDEN)
    z = mix(z ^ np.uint64(scenario))
    return mix(z ^ np.uint64(path))


@jit
def uniform(key, step):
    """A uniform in [0, 1) for one step of a stream."""
    z = mix(key ^ (np.uint64(step) * GOLDEN))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@parallel_jit
def text_keys(offsets, data):
    """FNV-1a (64-bit) of each string in Arrow layout (offsets into `data`)."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    for i in prange(n):
        h = np.uint64(0xCBF29CE484222325)
        for k in range(offsets[i], offsets[i + 1]):
            h = (h ^ np.uint64(data[k])) * np.uint64(0x100000001B3)
        out[i] = h
    return out


@jit
def bucket_of(b):
    """Accumulator of delinquent(b): M1, M2, M3, then M3+."""
    return M1 + min(b, 4) - 1


@jit
def step_date(due, lo, n, r, keep_day):
    """Date of row r: its due date, or a month per step after the last row's."""
    if r < n:
        return due[lo + r]
    return month_date(month_index(due[lo + n - 1]) + (r - n + 1), keep_day)


@jit
def cure_penalty(principal, due, lo, f, top, on, penalty_num, penalty_den, mode):
    """Penalty on rows f … top − 1 missed until `on`: rate × principal × days overdue, rounded per row."""
    total = 0
    for k in range(f, top):
        total += mul_div_round(principal[lo + k], penalty_num, on - due[lo + k], penalty_den, mode)
    return total


@jit
def row_sums(principal, interest, fee, lo, f, top):
    """(principal, interest, fee) of rows f … top − 1."""
    p = i = c = 0
    for k in range(f, top):
        p += principal[lo + k]
        i += interest[lo + k]
        c += fee[lo + k]
    return p, i, c


@jit
def cure_table(principal, interest, fee, due, lo, n, s0, keep_day, steps, charge_off_after, penalty_num,
               penalty_den, mode, table):  # fmt: skip
    """What a cure pays at step m from delinquent(b), for every (m, b): table[m, b] = (principal,
    interest, fee, penalty) of the missed rows and this step's installment. The same for every
    scenario, so computed once per loan; for a given step, b + 1 adds one older row."""
    ratio = penalty_num / penalty_den
    for m in range(1, steps + 1):
        r = s0 + m - 1
        on = step_date(due, lo, n, r, keep_day)
        paid_p = paid_i = paid_f = penalty = 0
        if r < n:  # this step's installment
            paid_p, paid_i, paid_f = principal[lo + r], interest[lo + r], fee[lo + r]
        for b in range(1, min(charge_off_after, r + 1)):
            k = r - b  # the row b + 1 adds (a missed one)
            if k < n:
                paid_p += principal[lo + k]
                paid_i += interest[lo + k]
                paid_f += fee[lo + k]
                penalty += mul_div_round_ratio(principal[lo + k], penalty_num, on - due[lo + k], penalty_den,
                                               ratio, mode)  # fmt: skip
            table[m, b, 0] = paid_p
            table[m, b, 1] = paid_i
            table[m, b, 2] = paid_f
            table[m, b, 3] = penalty


@jit
def expected_steps(
    c_lo, c_hi, offsets, due, principal, interest, fee, first, keep_day, segment, penalty_num, penalty_den, rounding,
    roll, cure, prepay, recovery, lag, charge_off_after, months, chunk, out,
):  # fmt: skip
    """Expected values: out[c, s, m, metric] accumulates chunk c's loans (chunk loans each) for
    scenario s and step m, propagating the probability of each state exactly; chunks c_lo:c_hi
    here (the caller runs ranges of chunks on all cores: `accrual.threads`)."""
    n_loans = offsets.shape[0] - 1
    scenarios = roll.shape[0]
    for c in range(c_lo, c_hi):
        balance = np.empty(MAX_ROWS + 1, dtype=np.float64)
        live = np.zeros(MAX_STATES, dtype=np.float64)
        nxt = np.zeros(MAX_STATES, dtype=np.float64)
        table = np.zeros((months + 1, MAX_STATES, 4), dtype=np.float64)
        for i in range(c * chunk, min(n_loans, (c + 1) * chunk)):
            lo = offsets[i]
            n = offsets[i + 1] - lo
            if n == 0:
                continue
            # balance[r]: principal not repaid before row r
            total = 0
            for k in range(n):
                total += principal[lo + k]
            left = total
            for k in range(n):
                balance[k] = left
                left -= principal[lo + k]
            balance[n] = 0.0
            s0 = first[i]
            if s0 >= charge_off_after:  # already missed too many: charged off at once
                for s in range(scenarios):
                    out[c, s, 1, BALANCE_START] += total
                    _charge_off(out, c, s, 1, 1.0, total, recovery[s], lag[s], months)
                continue
            # past its last row plus charge_off_after steps every path has ended
            steps = min(months, n - s0 + charge_off_after)
            cure_table(principal, interest, fee, due, lo, n, s0, keep_day[i], steps, charge_off_after,
                       penalty_num[i], penalty_den[i], rounding[i], table)  # fmt: skip
            for s in range(scenarios):
                p_roll = roll[s, segment[i]]
                p_cure = cure[s]
                p_prepay = prepay[s]
                for b in range(charge_off_after):
                    live[b] = 0.0
                live[s0] = 1.0
                for m in range(1, steps + 1):
                    r = s0 + m - 1
                    alive = 0.0
                    for b in range(charge_off_after):
                        alive += live[b]
                        nxt[b] = 0.0
                    if alive == 0.0:
                        break
                    acc = out[c, s, m]
                    p = live[0]
                    if p > 0.0:  # current: misses, or prepays after paying, or pays
                        acc[BALANCE_START] += p * balance[r]
                        miss = p * p_roll  # charge_off_after >= 2: a first miss is never a charge-off
                        nxt[1] += miss
                        rest = p - miss
                        prepaid = rest * p_prepay
                        acc[COLLECTED_PRINCIPAL] += rest * principal[lo + r] + prepaid * balance[r + 1]
                        acc[COLLECTED_INTEREST] += rest * interest[lo + r]
                        acc[COLLECTED_FEE] += rest * fee[lo + r]
                        if r < n - 1:
                            nxt[0] += rest - prepaid
                    for b in range(1, charge_off_after):
                        p = live[b]
                        if p == 0.0:
                            continue
                        f = r - b  # the first missed row
                        acc[BALANCE_START] += p * balance[f]
                        cured = p * p_cure
                        acc[COLLECTED_PRINCIPAL] += cured * table[m, b, 0]
                        acc[COLLECTED_INTEREST] += cured * table[m, b, 1]
                        acc[COLLECTED_FEE] += cured * table[m, b, 2]
                        acc[COLLECTED_PENALTY] += cured * table[m, b, 3]
                        if r < n - 1:
                            nxt[0] += cured
                        missing = p - cured
                        if b + 1 >= charge_off_after:
                            _charge_off(out, c, s, m, missing, balance[f], recovery[s], lag[s], months)
                        else:
                            nxt[b + 1] += missing
                    for b in range(charge_off_after):
                        live[b] = nxt[b]
                        if nxt[b] == 0.0:
                            continue
                        held = nxt[b] * balance[r + 1 - b]
                        acc[BALANCE] += held
                        acc[CURRENT if b == 0 else bucket_of(b)] += held


@jit
def _charge_off(out, c, s, m, probability, loss, recovery_rate, lag, months):
    out[c, s, m, CHARGED_OFF] += probability * loss
    if m + lag <= months:
        out[c, s, m + lag, RECOVERED] += probability * loss * recovery_rate


@jit
def opening_balances(offsets, principal):
    """Each loan's principal not repaid at the start: the sum of its rows' principal."""
    n_loans = offsets.shape[0] - 1
    opening = np.empty(n_loans, dtype=np.int64)
    for i in range(n_loans):
        total = 0
        for k in range(offsets[i], offsets[i + 1]):
            total += principal[k]
        opening[i] = total
    return opening


def path_groups(paths):
    """(groups, paths per group): up to PATH_GROUP paths a group, at least 16 groups when there
    are enough paths, so that every core has groups to take."""
    group = min(PATH_GROUP, max(1, (paths + 15) // 16))
    return (paths + group - 1) // group, group


@jit
def monte_carlo_steps(
    g_lo, g_hi, group, opening, offsets, due, principal, interest, fee, first, keep_day, segment, penalty_num,
    penalty_den, rounding, loan_key, roll, cure, prepay, recovery, lag, charge_off_after, months, seed, scenario,
    out,
):  # fmt: skip
    """One scenario's Monte Carlo: out[path, m, metric] accumulates every loan's path, for the
    path groups g_lo:g_hi (`path_groups`; the caller runs ranges of groups on all cores:
    `accrual.threads`). `opening` is `opening_balances`.

    Each group walks the loans block by block, every path of the group over the block while it
    is in cache. Each path owns its accumulators and sums the loans in order, so the result does
    not depend on the thread count.
    """
    n_loans = offsets.shape[0] - 1
    paths = out.shape[0]
    for g in range(g_lo, g_hi):
        for block in range(0, n_loans, LOAN_BLOCK):
            for path in range(g * group, min(paths, (g + 1) * group)):
                acc = out[path]
                stream = path_stream(seed, scenario, path)
                for i in range(block, min(n_loans, block + LOAN_BLOCK)):
                    lo = offsets[i]
                    n = offsets[i + 1] - lo
                    if n == 0:
                        continue
                    _walk(acc, mix(stream ^ np.uint64(loan_key[i])), lo, n, first[i], opening[i], due, principal,
                          interest, fee, keep_day[i], roll[segment[i]], cure, prepay, recovery, lag,
                          charge_off_after, months, penalty_num[i], penalty_den[i], rounding[i])  # fmt: skip


@inline_jit
def _walk(acc, key, lo, n, s0, unpaid, due, principal, interest, fee, keep_day, p_roll, cure, prepay, recovery,
          lag, charge_off_after, months, penalty_num, penalty_den, mode):  # fmt: skip
    """One loan's path: a uniform per step decides each transition."""
    if s0 >= charge_off_after:  # already missed too many: charged off at once
        acc[1, BALANCE_START] += unpaid
        _charge_off_path(acc, 1, unpaid, recovery, lag, months)
        return
    b = s0
    for m in range(1, months + 1):
        r = s0 + m - 1
        u = uniform(key, m)
        acc[m, BALANCE_START] += unpaid
        if b == 0:
            if u < p_roll:  # misses this installment
                b = 1
            else:
                unpaid -= principal[lo + r]
                acc[m, COLLECTED_PRINCIPAL] += principal[lo + r]
                acc[m, COLLECTED_INTEREST] += interest[lo + r]
                acc[m, COLLECTED_FEE] += fee[lo + r]
                if u < p_roll + (1.0 - p_roll) * prepay:  # and the whole balance after it
                    acc[m, COLLECTED_PRINCIPAL] += unpaid
                    return
                if r >= n - 1:
                    return  # matured
                acc[m, BALANCE] += unpaid
                acc[m, CURRENT] += unpaid
                continue
        else:
            f = r - b  # the first missed row
            if u < cure:  # pays every missed installment, their penalty and this one
                paid_p, paid_i, paid_f = row_sums(principal, interest, fee, lo, f, min(r + 1, n))
                on = step_date(due, lo, n, r, keep_day)
                unpaid -= paid_p
                acc[m, COLLECTED_PRINCIPAL] += paid_p
                acc[m, COLLECTED_INTEREST] += paid_i
                acc[m, COLLECTED_FEE] += paid_f
                acc[m, COLLECTED_PENALTY] += cure_penalty(
                    principal, due, lo, f, min(r, n), on, penalty_num, penalty_den, mode
                )
                if r >= n - 1:
                    return  # cured at or after the last installment: matured
                b = 0
                acc[m, BALANCE] += unpaid
                acc[m, CURRENT] += unpaid
                continue
            if b + 1 >= charge_off_after:
                _charge_off_path(acc, m, unpaid, recovery, lag, months)
                return
            b += 1
        acc[m, BALANCE] += unpaid
        acc[m, bucket_of(b)] += unpaid


@jit
def _charge_off_path(acc, m, loss, recovery_rate, lag, months):
    acc[m, CHARGED_OFF] += loss
    if m + lag <= months:
        acc[m + lag, RECOVERED] += loss * recovery_rate
