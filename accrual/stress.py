"""Portfolio stress simulation: the roll-rate model of SPEC.md section 11.

Each loan steps through its installments due from `start` (its remaining schedule from the
shared period step; installments it has already missed in the book come first). Per step and
scenario, `monthly` gives the book's balance by state and bucket, what is collected, charged off
and recovered, the NPL ratio and net interest income — exact expectations (`method="expected"`)
or means over Monte Carlo paths with their 5/50/95% quantiles; `losses` gives expected loss,
VaR and expected shortfall of charged off − recovered over the horizon.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

from accrual.conventions import DayCount, Status, TermUnit
from accrual.kernels import simulate
from accrual.kernels.amortize import RATE_SCALE
from accrual.kernels.dates import NO_DATE
from accrual.money import to_fen
from accrual.schedule import installments
from accrual.schema import (
    EPOCH,
    Checks,
    ValidationError,
    as_polars,
    day_number,
)
from accrual.threads import over_chunks

SEGMENTS = ("white_collar", "small_business", "blue_collar", "other")
BASE_ROLL = (0.028, 0.047, 0.093, 0.012)  # monthly roll to delinquency by segment (SPEC.md section 11)
BASE_CURE = 0.5
SCENARIO_COLUMNS = ("scenario", "pd_multiplier", "cure_multiplier", "prepay_rate", "recovery_rate",
                    "recovery_lag_months", "funding_rate")  # fmt: skip
SCENARIOS = pl.DataFrame(
    {
        "scenario": ["baseline", "industry", "severe"],
        "pd_multiplier": [1.0, 3.5 / 1.2, 5.0],
        "cure_multiplier": [1.0, 0.8, 0.5],
        "prepay_rate": [0.02, 0.01, 0.005],
        "recovery_rate": [0.3, 0.2, 0.1],
        "recovery_lag_months": [6, 6, 9],
        "funding_rate": [0.05, 0.055, 0.07],
    }
)
MONTHLY_MONEY = ("balance", "balance_current", "balance_m1", "balance_m2", "balance_m3", "balance_m3plus",
                 "collected_principal", "collected_interest", "collected_penalty", "collected_fee",
                 "charged_off", "recovered")  # fmt: skip
SPREAD = ("balance", "charged_off", "net_interest_income")  # Monte Carlo quantiles of these
BATCH_LOANS = 250_000  # loans whose schedules are held at once (memory stays bounded)


class Stress(NamedTuple):
    """`monthly`: one row per scenario and step; `losses`: one row per scenario."""

    monthly: pl.DataFrame
    losses: pl.DataFrame


def stress(
    book: Any,
    scenarios: Any = None,
    months: int = 36,
    paths: int = 1000,
    seed: int = 0,
    method: str = "monte_carlo",
    start: dt.date | str | None = None,
    *,
    charge_off_after: int = 6,
    batch_loans: int = BATCH_LOANS,
    progress: Callable[[int], object] | None = None,
    **defaults: Any,
) -> Stress:
    """Project a book under stress scenarios with the roll-rate model (SPEC.md section 11).

    `book` is a loans table or a book from `accrue`; `scenarios` a table with columns
    `scenario, pd_multiplier, cure_multiplier, prepay_rate, recovery_rate, recovery_lag_months,
    funding_rate` and optional `base_roll_<segment>` overrides (default: `baseline`, `industry`,
    `severe`). `start` defaults to the day after the book's latest `accrued_through` (a fresh
    loan counts as accrued through the day before its disbursement). `method="expected"`
    propagates state probabilities exactly; `"monte_carlo"` samples `paths` paths per scenario
    with a counter-based RNG keyed by (seed, scenario, path, loan id), so results do not depend
    on threads or batches. Money is in yuan, unrounded (expectations).

    >>> import accrual as ac
    >>> result = ac.stress(ac.generate(2_000, seed=1), months=12, method="expected")
    >>> result.losses.sort("expected_loss")["scenario"].to_list()
    ['baseline', 'industry', 'severe']
    """
    if method not in ("monte_carlo", "expected"):
        raise ValueError(f"method must be 'monte_carlo' or 'expected', not {method!r}")
    if not 1 <= months <= 600:
        raise ValueError(f"months must be in [1, 600], not {months!r}")
    if method == "monte_carlo" and paths < 1:
        raise ValueError(f"paths must be >= 1, not {paths!r}")
    if batch_loans < 1:
        raise ValueError(f"batch_loans must be >= 1, not {batch_loans!r}")
    if not 2 <= charge_off_after <= simulate.MAX_STATES:
        raise ValueError(f"charge_off_after must be in [2, {simulate.MAX_STATES}], not {charge_off_after!r}")
    frame = as_polars(book, "book")
    table = _scenarios(SCENARIOS if scenarios is None else as_polars(scenarios, "scenarios"))
    first_day = _start(frame) if start is None else day_number(start, "start")
    count = table.height
    roll = np.empty((count, len(SEGMENTS)))
    for k, (name, base) in enumerate(zip(SEGMENTS, BASE_ROLL, strict=True)):
        column = f"base_roll_{name}"
        segment_base = (
            table[column].fill_null(base).to_numpy() if column in table.columns else np.full(count, base)
        )
        roll[:, k] = np.minimum(1.0, segment_base * table["pd_multiplier"].to_numpy())
    cure = np.minimum(1.0, BASE_CURE * table["cure_multiplier"].to_numpy())
    prepay = table["prepay_rate"].to_numpy().astype(np.float64)
    recovery = table["recovery_rate"].to_numpy().astype(np.float64)
    lag = table["recovery_lag_months"].to_numpy().astype(np.int64)
    if method == "expected":
        totals = np.zeros((count, months + 1, simulate.METRICS))
    else:
        totals = np.zeros((count, paths, months + 1, simulate.METRICS))
    for lo in range(0, max(frame.height, 1), batch_loans):
        batch = _batch(frame.slice(lo, batch_loans), first_day, defaults)
        if method == "expected":
            chunk = 256
            out = np.zeros((max(1, -(-batch.loans // chunk)), count, months + 1, simulate.METRICS))
            over_chunks(simulate.expected_steps, out.shape[0], *batch.arrays, roll, cure, prepay, recovery, lag,
                        charge_off_after, months, chunk, out)  # fmt: skip
            totals += out.sum(axis=0)
        else:
            opening = simulate.opening_balances(batch.arrays[0], batch.arrays[2])
            groups, group = simulate.path_groups(paths)
            for s in range(count):
                over_chunks(simulate.monte_carlo_steps, groups, group, opening, *batch.arrays, batch.keys, roll[s],
                            cure[s], prepay[s], recovery[s], lag[s], charge_off_after, months, seed, s,
                            totals[s])  # fmt: skip
        if progress is not None:
            progress(batch.loans)
    return _results(table, totals / 100.0, method)


class _Batch(NamedTuple):
    loans: int
    # offsets, due, principal, interest, fee, first, keep_day, segment, penalty_num, penalty_den, rounding
    arrays: tuple[np.ndarray, ...]
    keys: np.ndarray  # per-loan RNG key (the loan id)


def _scenarios(table: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in SCENARIO_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError(f"scenarios column(s) {', '.join(missing)} missing")
    checks = Checks(table, key="scenario", what="scenarios")
    numbers = {c: table[c].cast(pl.Float64, strict=False) for c in SCENARIO_COLUMNS[1:]}
    for name, values in numbers.items():
        checks.add(values.is_null().to_numpy() | ~np.isfinite(values.fill_null(0).to_numpy()), name,
                   "required number is missing")  # fmt: skip
    for name in ("pd_multiplier", "cure_multiplier", "funding_rate"):
        checks.add((numbers[name].fill_null(0) < 0).to_numpy(), name, "must be >= 0")
    for name in ("prepay_rate", "recovery_rate"):
        value = numbers[name].fill_null(0)
        checks.add(((value < 0) | (value > 1)).to_numpy(), name, "must be in [0, 1]")
    lag = numbers["recovery_lag_months"].fill_null(0)
    checks.add(
        ((lag < 0) | (lag != lag.floor())).to_numpy(), "recovery_lag_months", "must be a whole number >= 0"
    )
    checks.add(table["scenario"].is_duplicated().to_numpy(), "scenario", "duplicate scenario")
    for column in table.columns:
        if column.startswith("base_roll_"):
            if column.removeprefix("base_roll_") not in SEGMENTS:
                raise ValidationError(
                    f"scenarios column {column!r}: unknown segment (expected one of {SEGMENTS})"
                )
            value = table[column].cast(pl.Float64, strict=False)
            checks.add(((value < 0) | (value > 1)).fill_null(False).to_numpy(), column, "must be in [0, 1]")
    if checks.rejected().any():
        raise ValidationError(checks.message())
    return table.with_columns(
        pl.col("scenario").cast(pl.String), *(numbers[c].alias(c) for c in SCENARIO_COLUMNS[1:])
    )


def _start(frame: pl.DataFrame) -> int:
    """The day after the book's latest accrued_through (fresh loans: their disbursement day)."""
    disbursed = frame["disbursed_on"].cast(pl.Date)
    through = (
        frame["accrued_through"].cast(pl.Date).fill_null(disbursed - dt.timedelta(days=1))
        if "accrued_through" in frame.columns
        else disbursed - dt.timedelta(days=1)
    )
    latest = through.max()
    if latest is None:
        return 0
    assert isinstance(latest, dt.date)
    return (latest - EPOCH).days + 1


def _batch(frame: pl.DataFrame, first_day: int, defaults: dict[str, Any]) -> _Batch:
    """The batch's loans as kernel arrays: each loan's rows (missed installments, then its
    remaining schedule due on or after the start) with their offsets."""
    plan = installments(frame, defaults)
    loans = plan.loans
    n = len(loans)
    counts = np.diff(plan.offsets)
    owner = np.repeat(np.arange(n), counts)
    ahead = plan.due >= first_day
    columns = [plan.due[ahead], plan.principal[ahead], plan.interest[ahead], plan.fee[ahead]]
    owner = owner[ahead]
    first = np.zeros(n, dtype=np.int64)
    missed = _missed(frame.filter(pl.Series(loans.kept)) if not loans.kept.all() else frame, loans)
    if missed is not None:  # installments already missed go first, oldest first
        position, rows = missed
        first = np.bincount(position, minlength=n).astype(np.int64)
        order = np.argsort(np.concatenate([position, owner]), kind="stable")
        columns = [
            np.concatenate([extra, column])[order] for extra, column in zip(rows, columns, strict=True)
        ]
        owner = np.concatenate([position, owner])[order]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=offsets[1:])
    due, principal, interest, fee = (np.ascontiguousarray(c, dtype=np.int64) for c in columns)
    year_days = np.where(loans.day_count == DayCount.ACT_365, 365, 360).astype(np.int64)
    arrays = (
        offsets, due, principal, interest, fee, first, _keep_day(loans), _segments(frame, loans.kept),
        loans.servicing["penalty_num"], RATE_SCALE * 2 * year_days, loans.rounding.astype(np.int64),
    )  # fmt: skip
    return _Batch(n, arrays, _keys(loans.loan_id))


def _missed(frame: pl.DataFrame, loans: Any) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """(loan position, [due, principal, interest, fee]) of the book's installments already billed
    and unpaid, oldest first within each loan; only active loans step (a written-off loan has
    already been charged off, a closed one has nothing left)."""
    if "unpaid" not in frame.columns or frame["unpaid"].dtype == pl.Null:
        return None
    active = ~loans.servicing["fresh"] & (loans.servicing["status"] == Status.ACTIVE)
    lengths = np.where(active, frame["unpaid"].list.len().fill_null(0).to_numpy(), 0)
    if not lengths.sum():
        return None
    flat = frame["unpaid"].filter(pl.Series(lengths > 0)).explode().drop_nulls().struct.unnest()
    position = np.repeat(np.arange(frame.height), lengths)
    rows = [
        flat["due_on"].cast(pl.Date).to_physical().to_numpy().astype(np.int64),
        to_fen(flat["principal"])[0],
        to_fen(flat["interest"])[0] + to_fen(flat["grace_interest"])[0],
        to_fen(flat["fee"])[0],
    ]
    return position, rows


def _keep_day(loans: Any) -> np.ndarray:
    """Day of month the steps keep once a loan is past its last installment: its due dates' (a
    day-term loan: its one due date's)."""
    anchor = np.where(loans.first_due_on != NO_DATE, loans.first_due_on, loans.disbursed_on).astype(np.int64)
    anchor = np.where(loans.term_unit == TermUnit.DAY, loans.disbursed_on + loans.term, anchor)
    days = anchor.astype("datetime64[D]")
    return (days - days.astype("datetime64[M]")).astype(np.int64) + 1


def _segments(frame: pl.DataFrame, kept: np.ndarray) -> np.ndarray:
    if "segment" not in frame.columns:
        return np.full(int(kept.sum()), SEGMENTS.index("other"), dtype=np.int64)
    text = frame["segment"].cast(pl.String).filter(pl.Series(kept))
    codes = text.replace_strict({s: k for k, s in enumerate(SEGMENTS)}, default=SEGMENTS.index("other"),
                                return_dtype=pl.Int64)  # fmt: skip
    return codes.fill_null(SEGMENTS.index("other")).to_numpy()


def _keys(ids: pl.Series) -> np.ndarray:
    """The RNG key of each loan: its integer id, else the FNV-1a hash of its text (stable
    across versions and machines, unlike a hash table's)."""
    if ids.dtype.is_integer():
        return ids.cast(pl.Int64).to_numpy().view(np.uint64)
    text = ids.cast(pl.String).to_arrow()
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = text.cast(pa.large_string())
    _, offsets, data = text.buffers()
    starts = np.frombuffer(offsets, dtype=np.int64, count=len(text) + 1 + text.offset)[text.offset :]
    return simulate.text_keys(
        starts, np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    )


def _results(table: pl.DataFrame, totals: np.ndarray, method: str) -> Stress:
    names = table["scenario"].to_list()
    funding = table["funding_rate"].to_numpy()
    months = totals.shape[-2] - 1
    m = simulate
    frames = []
    losses: list[tuple[str, float, float | None, float | None, float | None]] = []
    for s, name in enumerate(names):
        data = totals[s][..., 1:, :]  # (steps, metrics) or (paths, steps, metrics)
        income = (data[..., m.COLLECTED_INTEREST] + data[..., m.COLLECTED_PENALTY] + data[..., m.COLLECTED_FEE]
                  - funding[s] / 12 * data[..., m.BALANCE_START])  # fmt: skip
        balance = data[..., m.BALANCE]
        npl = np.divide(data[..., m.M3_PLUS], balance, out=np.zeros_like(balance), where=balance > 0)
        columns: dict[str, Any] = {"scenario": [name] * months, "step": np.arange(1, months + 1)}
        mean = data.mean(axis=0) if data.ndim == 3 else data
        for k, column in enumerate(MONTHLY_MONEY):
            columns[column] = mean[:, k]
        columns["npl_ratio"] = npl.mean(axis=0) if data.ndim == 3 else npl
        columns["net_interest_income"] = income.mean(axis=0) if data.ndim == 3 else income
        loss = (data[..., m.CHARGED_OFF] - data[..., m.RECOVERED]).sum(axis=-1)
        if data.ndim == 3:
            spread = {
                "balance": balance,
                "charged_off": data[..., m.CHARGED_OFF],
                "net_interest_income": income,
            }
            for column, values in spread.items():
                for q in (5, 50, 95):
                    columns[f"{column}_p{q:02d}"] = np.percentile(values, q, axis=0)
            var_99 = float(np.quantile(loss, 0.99))
            tail = loss[loss >= var_99]
            losses.append(
                (name, float(loss.mean()), float(np.quantile(loss, 0.95)), var_99, float(tail.mean()))
            )
        else:
            losses.append((name, float(loss), None, None, None))
        frames.append(pl.DataFrame(columns))
    monthly = pl.concat(frames).with_columns(pl.col("step").cast(pl.Int32))
    loss_table = pl.DataFrame(
        losses, schema={"scenario": pl.String, "expected_loss": pl.Float64, "var_95": pl.Float64,
                        "var_99": pl.Float64, "es_99": pl.Float64},
        orient="row",
    )  # fmt: skip
    return Stress(monthly, loss_table)
