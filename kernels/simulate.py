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

from ._config import jit, parallel_jit
from .dates import month_date, month_index
from .rounding import mul_div_round

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
def path_key(seed, scenario, path, loan):
    """The random stream of one (seed, scenario, path, loan): counter-based, so a loan's path
    does not depend on which thread or batch simulates it."""
    z = mix(np.uint64(seed) + GOLDEN)
    z = mix(z ^ np.uint64(scenario))
    z = mix(z ^ np.uint64(path))
    return mix(z ^ np.uint64(loan))


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


@parallel_jit
def expected_steps(
    offsets, due, principal, interest, fee, first, keep_day, segment, penalty_num, penalty_den, rounding,
    roll, cure, prepay, recovery, lag, charge_off_after, months, chunk, out,
):  # fmt: skip
    """Expected values: out[c, s, m, metric] accumulates chunk c's loans (chunk loans each) for
    scenario s and step m, propagating the probability of each state exactly."""
    n_loans = offsets.shape[0] - 1
    scenarios = roll.shape[0]
    for c in prange(out.shape[0]):
        balance = np.empty(MAX_ROWS + 1, dtype=np.float64)
        live = np.zeros(MAX_STATES, dtype=np.float64)
        nxt = np.zeros(MAX_STATES, dtype=np.float64)
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
            for s in range(scenarios):
                if first[i] >= charge_off_after:  # already missed too many: charged off at once
                    out[c, s, 1, BALANCE_START] += total
                    _charge_off(out, c, s, 1, 1.0, total, recovery[s], lag[s], months)
                    continue
                p_roll = roll[s, segment[i]]
                p_cure = cure[s]
                p_prepay = prepay[s]
                for b in range(charge_off_after):
                    live[b] = 0.0
                live[first[i]] = 1.0
                s0 = first[i]
                for m in range(1, months + 1):
                    r = s0 + m - 1
                    alive = 0.0
                    for b in range(charge_off_after):
                        alive += live[b]
                        nxt[b] = 0.0
                    if alive == 0.0:
                        break
                    acc = out[c, s, m]
                    on = step_date(due, lo, n, r, keep_day[i])
                    for b in range(charge_off_after):
                        p = live[b]
                        if p == 0.0:
                            continue
                        if b == 0:
                            # current: miss, or prepay after paying, or pay
                            acc[BALANCE_START] += p * balance[r]
                            miss = p * p_roll  # charge_off_after >= 2: a first miss is never a charge-off
                            nxt[1] += miss
                            rest = p - miss
                            prepaid = rest * p_prepay
                            paying = rest - prepaid
                            acc[COLLECTED_PRINCIPAL] += rest * principal[lo + r] + prepaid * balance[r + 1]
                            acc[COLLECTED_INTEREST] += rest * interest[lo + r]
                            acc[COLLECTED_FEE] += rest * fee[lo + r]
                            if r < n - 1:
                                nxt[0] += paying
                            continue
                        f = max(r - b, 0)  # the first missed row
                        acc[BALANCE_START] += p * balance[f]
                        cured = p * p_cure
                        top = min(r + 1, n)  # the missed rows and this step's installment, if any
                        paid_p, paid_i, paid_f = row_sums(principal, interest, fee, lo, f, top)
                        penalty = cure_penalty(
                            principal, due, lo, f, min(r, n), on, penalty_num[i], penalty_den[i], rounding[i]
                        )
                        acc[COLLECTED_PRINCIPAL] += cured * paid_p
                        acc[COLLECTED_INTEREST] += cured * paid_i
                        acc[COLLECTED_FEE] += cured * paid_f
                        acc[COLLECTED_PENALTY] += cured * penalty
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
                        held = nxt[b] * balance[max(r + 1 - b, 0)]
                        acc[BALANCE] += held
                        acc[CURRENT if b == 0 else bucket_of(b)] += held


@jit
def _charge_off(out, c, s, m, probability, loss, recovery_rate, lag, months):
    out[c, s, m, CHARGED_OFF] += probability * loss
    if m + lag <= months:
        out[c, s, m + lag, RECOVERED] += probability * loss * recovery_rate


@parallel_jit
def monte_carlo_steps(
    offsets, due, principal, interest, fee, first, keep_day, segment, penalty_num, penalty_den, rounding,
    loan_key, roll, cure, prepay, recovery, lag, charge_off_after, months, seed, scenario, out,
):  # fmt: skip
    """One scenario's Monte Carlo: out[path, m, metric] accumulates every loan's path, paths in
    parallel (each path owns its slice; loans are summed in order, so results do not depend on
    the thread count)."""
    n_loans = offsets.shape[0] - 1
    for path in prange(out.shape[0]):
        acc = out[path]
        for i in range(n_loans):
            lo = offsets[i]
            n = offsets[i + 1] - lo
            if n == 0:
                continue
            key = path_key(seed, scenario, path, loan_key[i])
            p_roll = roll[segment[i]]
            s0 = first[i]
            unpaid = 0  # principal not repaid before the first unpaid row
            for k in range(n):
                unpaid += principal[lo + k]
            if s0 >= charge_off_after:  # already missed too many: charged off at once
                acc[1, BALANCE_START] += unpaid
                _charge_off_path(acc, 1, unpaid, recovery, lag, months)
                continue
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
                            break
                        if r >= n - 1:
                            break  # matured
                        acc[m, BALANCE] += unpaid
                        acc[m, CURRENT] += unpaid
                        continue
                else:
                    f = r - b  # the first missed row
                    if u < cure:  # pays every missed installment, their penalty and this one
                        top = min(r + 1, n)
                        paid_p, paid_i, paid_f = row_sums(principal, interest, fee, lo, f, top)
                        on = step_date(due, lo, n, r, keep_day[i])
                        unpaid -= paid_p
                        acc[m, COLLECTED_PRINCIPAL] += paid_p
                        acc[m, COLLECTED_INTEREST] += paid_i
                        acc[m, COLLECTED_FEE] += paid_f
                        acc[m, COLLECTED_PENALTY] += cure_penalty(
                            principal, due, lo, f, min(r, n), on, penalty_num[i], penalty_den[i], rounding[i]
                        )
                        if r >= n - 1:
                            break  # cured at or after the last installment: matured
                        b = 0
                        acc[m, BALANCE] += unpaid
                        acc[m, CURRENT] += unpaid
                        continue
                    if b + 1 >= charge_off_after:
                        _charge_off_path(acc, m, unpaid, recovery, lag, months)
                        break
                    b += 1
                acc[m, BALANCE] += unpaid
                acc[m, bucket_of(b)] += unpaid


@jit
def _charge_off_path(acc, m, loss, recovery_rate, lag, months):
    acc[m, CHARGED_OFF] += loss
    if m + lag <= months:
        acc[m + lag, RECOVERED] += loss * recovery_rate
