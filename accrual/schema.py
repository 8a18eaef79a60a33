"""Table schemas, parameter resolution and validation.

A loans table has one row per loan. Every loan parameter may be a column (per loan) or a keyword
(for the whole call); where both are given, the column wins and the keyword fills its nulls.

| column | type | default | meaning |
|---|---|---|---|
| `loan_id` | any (unique) | — | the loan's identifier |
| `principal` | money | — | amount disbursed |
| `annual_rate` / `daily_rate` | fraction | — | contract rate; one of the two per loan |
| `term` | int | — | number of months, or days when `term_unit="day"` |
| `disbursed_on` | date | — | disbursement day (accrues interest: 算头不算尾) |
| `method` | `Method` | equal_installment | repayment method |
| `term_unit` | `TermUnit` | month | `day` means one payment `term` days after disbursement |
| `first_due_on` | date | one month after disbursement | first due date; its day of month is kept |
| `payday` | int 1–31 | none | monthly loans without `first_due_on` fall due the day after payday (the first due date at least 15 days out; that period accrues by the day) |
| `day_count` | `DayCount` | ACT/360 | days in a period and in a year |
| `interest_basis` | `InterestBasis` | daily | by the day, or annual/12 per month |
| `rounding` | `Rounding` | half_up | rounding of every posted amount |
| `installment_multiple` | money | 0 (the fen) | the fixed installment is rounded to a multiple of this (1 = whole yuan) |
| `installment_fee_rate` | fraction | 0 | fee per period = rate × original principal (column `fee`) |
| `upfront_fee_rate` | fraction | 0 | fee taken at disbursement (kept for the APR) |
| `interest_free_days` | int | 0 | the first days from disbursement accrue nothing |

Servicing parameters (`penalty_rate`, `grace_days`, `late_fee_rate`, …) are accepted as keywords
so product presets can be passed to every verb; `schedule` does not use them.

A schedule has one row per installment: `loan_id, period, due_on, payment, principal, interest,
fee, balance`, money as Decimal(18, 2); `payment = principal + interest + fee` and `balance` is the
principal remaining after the installment.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from accrual.buffers import Buffers, buffers, distinct_rows, over_pieces
from accrual.conventions import (
    Allocation,
    Convention,
    DayCount,
    InterestBasis,
    Method,
    Prepay,
    Rounding,
    Status,
    TermUnit,
    normalise,
)
from accrual.kernels import validate
from accrual.kernels.amortize import RATE_SCALE
from accrual.kernels.dates import NO_DATE
from accrual.kernels.validate import MAX_DAILY_NUM, MAX_FEN, MAX_TERM_DAYS, MAX_TERM_MONTHS, check_loans
from accrual.money import readonly, to_fen, to_rate
from accrual.threads import over_chunks

ENUMS: dict[str, type[Convention]] = {
    "method": Method,
    "term_unit": TermUnit,
    "day_count": DayCount,
    "interest_basis": InterestBasis,
    "rounding": Rounding,
}
DEFAULTS: dict[str, Any] = {
    "method": Method.EQUAL_INSTALLMENT,
    "term_unit": TermUnit.MONTH,
    "day_count": DayCount.ACT_360,
    "interest_basis": InterestBasis.DAILY,
    "rounding": Rounding.HALF_UP,
    "installment_multiple": 0,
    "installment_fee_rate": 0.0,
    "upfront_fee_rate": 0.0,
    "interest_free_days": 0,
}
REQUIRED = ("principal", "term", "disbursed_on")
LOAN_PARAMETERS = frozenset({*REQUIRED, *DEFAULTS, "annual_rate", "daily_rate", "first_due_on", "payday"})
# Accepted everywhere so a product preset can be splatted into any verb; used by servicing.
SERVICING_PARAMETERS = frozenset(
    {
        "penalty_rate", "penalty_multiplier", "grace_days", "compound", "compound_after_days",
        "late_fee_rate", "late_fee_after_days", "non_accrual_after_days", "write_off_after_days",
        "allocation", "prepay", "prepay_fee_rate", "prepay_keeps_fees",
    }
)  # fmt: skip
MAX_REPORTED_IDS = 10
EPOCH = dt.date(1970, 1, 1)

SCHEDULE_COLUMNS = (
    "loan_id",
    "period",
    "due_on",
    "payment",
    "principal",
    "interest",
    "fee",
    "balance",
)
REJECT_SCHEMA = {"loan_id": None, "column": pl.String, "rule": pl.String, "value": pl.String}

# The loan rules, bit by bit as `accrual.kernels.validate.check_loans` flags them: (column, rule).
# "rate" is the rate column the loans give (annual_rate, or daily_rate when only that is given).
LOAN_RULES = (
    ("loan_id", "required value is missing"),
    ("loan_id", "duplicate loan_id"),
    *((name, f"unknown {name} (expected one of: {', '.join(m.canonical for m in enum)})")
      for name, enum in ENUMS.items()),
    ("principal", "required value is missing"),
    ("principal", "not a finite amount within ±10^14 yuan"),
    ("principal", "must be > 0"),
    ("annual_rate", "required value is missing (or daily_rate)"),
    ("daily_rate", "disagrees with annual_rate (daily = annual / year days)"),
    ("rate", "must be >= 0"),
    ("rate", "absurd: daily rate >= 1%"),
    ("term", "required value is missing"),
    ("term", "must be a whole number"),
    ("term", "must be >= 1"),
    ("term", f"too long (at most {MAX_TERM_MONTHS} months or {MAX_TERM_DAYS} days)"),
    ("disbursed_on", "required value is missing"),
    ("first_due_on", "must be after disbursed_on"),
    ("first_due_on", "only for term_unit 'month'"),
    ("installment_multiple", "must be >= 0"),
    ("installment_fee_rate", "must be in [0, 1)"),
    ("upfront_fee_rate", "must be in [0, 1)"),
    ("interest_free_days", "must be a whole number >= 0"),
)  # fmt: skip
assert len(LOAN_RULES) == validate.RULES


class ValidationError(ValueError):
    """Bad input: each broken rule with its column and up to 10 offending loan ids.

    `rejects` holds every violation as rows `(loan_id, column, rule, value)`.
    """

    def __init__(self, message: str, rejects: pl.DataFrame | None = None):
        super().__init__(message)
        self.rejects = rejects


@dataclass(frozen=True)
class LoanArrays:
    """Validated loans as contiguous NumPy columns in kernel units, plus what was rejected."""

    loan_id: pl.Series  # the accepted loans' ids, input dtype
    principal: np.ndarray  # int64 fen
    annual_num: np.ndarray  # int64, annual rate × RATE_SCALE
    term: np.ndarray  # int64
    term_unit: np.ndarray  # int8
    disbursed_on: np.ndarray  # int32 days since epoch
    first_due_on: np.ndarray  # int32, NO_DATE when absent
    method: np.ndarray  # int8
    day_count: np.ndarray  # int8
    interest_basis: np.ndarray  # int8
    rounding: np.ndarray  # int8
    installment_multiple: np.ndarray  # int64 fen, >= 1
    installment_fee_num: np.ndarray  # int64, rate × RATE_SCALE
    upfront_fee_num: np.ndarray  # int64, rate × RATE_SCALE
    interest_free_days: np.ndarray  # int64
    rejects: pl.DataFrame
    servicing: dict[str, np.ndarray]  # servicing terms and book state (`accrual.eod`), when asked for
    kept: np.ndarray  # bool per input row: not rejected

    def __len__(self) -> int:
        return self.principal.shape[0]


def as_polars(table: Any, what: str = "loans") -> pl.DataFrame:
    """A polars DataFrame from polars or pyarrow input (zero-copy where Arrow allows)."""
    if isinstance(table, pl.DataFrame):
        return table
    if isinstance(table, pl.LazyFrame):
        return table.collect()
    if isinstance(table, pa.Table | pa.RecordBatch):
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame
    raise TypeError(f"{what} must be a polars DataFrame or a pyarrow Table, not {type(table).__name__}")


def check_keywords(defaults: dict[str, Any]) -> None:
    unknown = sorted(set(defaults) - LOAN_PARAMETERS - SERVICING_PARAMETERS - {"monthly_surplus"})
    if unknown:
        known = ", ".join(sorted(LOAN_PARAMETERS | SERVICING_PARAMETERS))
        raise TypeError(f"unknown parameter(s) {', '.join(unknown)}; known: {known}")


class Checks:
    """Collects violations (row mask, column, rule) and builds the rejects table.

    Rows are named by `key` (`loan_id`, or `payment_id` for payments); the rejects table always
    has `loan_id` first, then `key` when it is another column.
    """

    def __init__(self, frame: pl.DataFrame, key: str = "loan_id", what: str = "loans"):
        self.frame = frame
        self.key = key
        self.what = what
        self.found: list[tuple[np.ndarray, str, str, pl.Series]] = []

    def add(self, mask: np.ndarray, column: str, rule: str, values: pl.Series | None = None) -> None:
        if mask.any():
            if values is None:
                values = self.frame[column] if column in self.frame.columns else pl.Series([None] * len(mask))
            self.found.append((mask, column, rule, values))

    def rejected(self) -> np.ndarray:
        out = np.zeros(self.frame.height, dtype=bool)
        for mask, *_ in self.found:
            out |= mask
        return out

    def _ids(self) -> dict[str, pl.Series]:
        names = ["loan_id"] if self.key == "loan_id" else ["loan_id", self.key]
        return {name: self.frame[name] for name in names}

    def table(self) -> pl.DataFrame:
        parts = [
            pl.DataFrame(
                {
                    **{name: ids.filter(pl.Series(mask)) for name, ids in self._ids().items()},
                    "column": pl.Series([column] * int(mask.sum()), dtype=pl.String),
                    "rule": pl.Series([rule] * int(mask.sum()), dtype=pl.String),
                    "value": values.filter(pl.Series(mask)).cast(pl.String),
                }
            )
            for mask, column, rule, values in self.found
        ]
        if not parts:
            return pl.DataFrame(
                {
                    **{name: ids.clear() for name, ids in self._ids().items()},
                    **{k: pl.Series([], dtype=v) for k, v in REJECT_SCHEMA.items() if v},
                }
            )
        return pl.concat(parts)

    def message(self) -> str:
        ids = self.frame[self.key]
        lines = [f"{int(self.rejected().sum())} of {self.frame.height} {self.what} break a rule:"]
        for mask, column, rule, _ in self.found:
            bad = ids.filter(pl.Series(mask))
            shown = ", ".join(repr(x) for x in bad.head(MAX_REPORTED_IDS).to_list())
            more = f" and {bad.len() - MAX_REPORTED_IDS} more" if bad.len() > MAX_REPORTED_IDS else ""
            lines.append(f"  column {column!r}: {rule} — {bad.len()} {self.what[:-1]}(s): {shown}{more}")
        return "\n".join(lines)


def _nulls(column: pl.Series) -> np.ndarray:
    """Null mask of a column (read-only); free when it has none (the count is Arrow metadata)."""
    if column.null_count() == 0:
        return _no_nulls(column.len())
    return column.is_null().to_numpy()


@functools.lru_cache(maxsize=4)
def _no_nulls(n: int) -> np.ndarray:
    """One shared read-only all-false mask per length: allocating and faulting in a fresh one
    per column cost more than every check on it."""
    return readonly(np.zeros(n, dtype=bool))


def increasing_ids(ids: pl.Series) -> np.ndarray | None:
    """The ids as NumPy when they are strictly increasing integers without nulls (as generated,
    and as batches keep them), else None: such ids need no hashing to check or look up."""
    if ids.dtype.is_integer() and ids.null_count() == 0:
        values = ids.to_numpy()
        if values.shape[0] < 2 or bool((values[1:] > values[:-1]).all()):
            return values
    return None


def positions(ids: pl.Series, book_ids: pl.Series) -> pl.Series:
    """Row of each id in the book (null when absent): arithmetic when the book's ids are
    consecutive integers, a binary search when they are increasing, else a join."""
    keys = increasing_ids(book_ids)
    if keys is not None and keys.shape[0] and ids.dtype.is_integer():
        wanted = ids.cast(pl.Int64, strict=False).fill_null(keys[0] - 1).to_numpy()  # a null matches nothing
        if int(keys[-1]) - int(keys[0]) == keys.shape[0] - 1:  # consecutive (as generated): no search at all
            at = np.clip(wanted - keys[0], 0, keys.shape[0] - 1)
        else:
            at = np.minimum(np.searchsorted(keys, wanted), keys.shape[0] - 1)
        found = keys[at] == wanted
        return pl.Series("position", at, dtype=pl.UInt32).set(~pl.Series(found), None)
    joined = pl.DataFrame({"loan_id": ids.cast(book_ids.dtype, strict=False)}).join(
        book_ids.to_frame("loan_id").with_row_index("position"),
        on="loan_id",
        how="left",
        maintain_order="left",
    )
    return joined["position"]


def _duplicated(ids: pl.Series) -> np.ndarray:
    """Rows whose id occurs more than once; O(n) without hashing for increasing integer ids."""
    if increasing_ids(ids) is not None:
        return np.zeros(ids.len(), dtype=bool)
    return ids.is_duplicated().to_numpy() & ids.is_not_null().to_numpy()


def _parameter(frame: pl.DataFrame, name: str, defaults: dict[str, Any]) -> pl.Series | None:
    """The column `name` with keyword/default filling its nulls, or None if given nowhere."""
    fill = defaults.get(name, DEFAULTS.get(name))
    if isinstance(fill, Convention):
        fill = fill.canonical
    if name in frame.columns and frame[name].dtype != pl.Null:  # an all-null column is no column
        column = frame[name]
        if fill is not None and column.null_count():
            if name in ENUMS:  # an Enum dtype may not hold the fill's spelling
                column = column.cast(pl.String)
            column = column.fill_null(fill)
        return column
    if fill is None:
        return None
    if name == "installment_multiple" and type(fill) is int and abs(fill) < 10**14:
        # whole yuan as Decimal(18, 2), a money column's own type, so it is read in place
        # (`StagedLoans.in_place`); already of scale 2, it is made without a cast (1 against 10 ms at 1M)
        whole = Decimal(fill).quantize(Decimal("0.01"))
        return pl.repeat(whole, frame.height, dtype=pl.Decimal(18, 2), eager=True).alias(name)
    return pl.repeat(fill, frame.height, eager=True).alias(name)


def _enum_codes(
    frame: pl.DataFrame, name: str, defaults: dict[str, Any]
) -> tuple[np.ndarray, pl.Series | None]:
    """Codes of an enum parameter; a keyword for the whole call is parsed once (and raises if unknown)."""
    enum = ENUMS[name]
    if name not in frame.columns:
        code = enum.parse(defaults.get(name, DEFAULTS[name]))
        return np.full(frame.height, int(code), dtype=np.int8), None
    column = _parameter(frame, name, defaults)
    assert column is not None
    return _codes(column, enum), column


def _codes(column: pl.Series, enum: type[Convention]) -> np.ndarray:
    """Enum codes (int8) of a text column, -1 where the text is not a known spelling."""
    aliases = enum.aliases()
    if isinstance(column.dtype, pl.Enum):  # map the few categories, then index by physical code
        categories = column.dtype.categories.to_list()
        lookup = np.array([_lookup(aliases, c) for c in categories] + [-1], dtype=np.int8)
        physical = column.to_physical()
        identity = np.array_equal(lookup[:-1], np.arange(len(categories)))
        if identity and physical.dtype == pl.UInt8 and not physical.null_count():
            return physical.to_numpy().view(np.int8)  # categories in code order: the codes as they are
        if physical.null_count():
            physical = physical.fill_null(len(categories))
        return np.take(lookup, physical.to_numpy())
    if column.dtype.is_integer():  # already codes
        values = column.fill_null(-1).to_numpy().astype(np.int64)
        return np.where(np.isin(values, [int(m) for m in enum]), values, -1).astype(np.int8)
    text = column.cast(pl.String)
    in_place = distinct_rows(text)
    if in_place is not None:  # a few distinct values, found without hashing (15–22 → 4–6 ms at 1M)
        rows, texts = in_place
        codes = [_lookup(aliases, t) for t in texts]
        if len(codes) == 1 and not text.null_count():  # one value on every row (`pl.lit`): no gather
            return np.full(text.len(), codes[0], dtype=np.int8)
        return np.array([*codes, -1], dtype=np.int8)[rows]
    unique = text.drop_nulls().unique().to_list()
    mapping = {u: _lookup(aliases, u) for u in unique}
    return text.replace_strict(mapping, default=-1, return_dtype=pl.Int8).fill_null(-1).to_numpy()


def _lookup(aliases: dict[str, Any], text: str) -> int:
    member = aliases.get(normalise(text))
    return -1 if member is None else int(member)


def _days(column: pl.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(int32 days since epoch, null mask) of a date column."""
    if column.dtype == pl.Datetime or isinstance(column.dtype, pl.Datetime):
        column = column.dt.date()
    if column.dtype != pl.Date:
        raise ValidationError(f"column {name!r} must be a date, not {column.dtype}")
    nulls = _nulls(column)
    days = column.to_physical().fill_null(NO_DATE).to_numpy()  # date32's physical type: int32
    # not copied again: a many-chunk column (Parquet's row groups) is a fresh array already
    return days.astype(np.int32, copy=False), nulls


def prepare_loans(
    loans: Any,
    defaults: dict[str, Any],
    errors: str = "raise",
    servicing: Any = None,
) -> LoanArrays:
    """Validate a loans table and cast it to kernel arrays (one vectorised pass, reasons per row).

    `servicing(frame, defaults, columns, checks)`, when given, validates more columns (servicing
    terms, book state) and returns their arrays, which are kept or rejected with the loans.
    """
    return stage_loans(loans, defaults, errors).arrays(servicing)


def stage_loans(loans: Any, defaults: dict[str, Any], errors: str = "raise") -> StagedLoans:
    """The first half of `prepare_loans`: the loans' parameters found (columns or keywords), their
    conventions coded and dates read; money, rates and counts not yet cast or checked. A kernel
    that can read them where they lie (`StagedLoans.in_place`) may check and use them in one pass
    (`accrual.schedule`); `StagedLoans.arrays` does the rest of `prepare_loans`."""
    if errors not in ("raise", "reject"):
        raise ValueError(f"errors must be 'raise' or 'reject', not {errors!r}")
    check_keywords(defaults)
    frame = as_polars(loans)
    if "loan_id" not in frame.columns:
        raise ValidationError("column 'loan_id' is missing: every loan needs an identifier")
    n = frame.height

    def get(name: str) -> pl.Series:
        column = _parameter(frame, name, defaults)
        if column is None:
            raise ValidationError(f"column {name!r} is missing and no {name}= keyword was given")
        return column

    codes: dict[str, np.ndarray] = {}
    enum_values: dict[str, pl.Series | None] = {}
    for name in ENUMS:
        codes[name], enum_values[name] = _enum_codes(frame, name, defaults)

    principal_col = get("principal")
    annual_col, daily_col = _rate_parameters(frame, defaults)
    term_col = get("term")
    if not (term_col.dtype.is_integer() or term_col.dtype.is_float()):
        raise ValidationError(f"column 'term' must be an integer, not {term_col.dtype}")
    disbursed, disbursed_null = _days(get("disbursed_on"), "disbursed_on")
    first_due_col = _parameter(frame, "first_due_on", defaults)
    payday_col = _parameter(frame, "payday", defaults)
    payday_checks = Checks(frame)
    if payday_col is not None:  # due dates follow payday unless a first_due_on is given
        first_due_col = _payday_first_due(
            frame, payday_col, first_due_col, disbursed, codes["term_unit"], payday_checks
        )
    first_due = np.full(n, NO_DATE, dtype=np.int32)
    if first_due_col is not None:
        first_due, _ = _days(first_due_col, "first_due_on")
    return StagedLoans(
        frame, defaults, errors, codes, enum_values, disbursed, disbursed_null, first_due, principal_col,
        get("installment_multiple"), annual_col, daily_col, get("installment_fee_rate"),
        get("upfront_fee_rate"), term_col, get("interest_free_days"), payday_checks,
    )  # fmt: skip


@dataclass
class StagedLoans:
    """A loans table between `stage_loans` and its `arrays` (see `stage_loans`)."""

    frame: pl.DataFrame
    defaults: dict[str, Any]
    errors: str
    codes: dict[str, np.ndarray]  # int8 per loan, ENUMS order; -1 where unknown
    enum_values: dict[str, pl.Series | None]  # the columns they came from, for reasons
    disbursed: np.ndarray
    disbursed_null: np.ndarray
    first_due: np.ndarray
    principal: pl.Series
    multiple: pl.Series
    annual: pl.Series | None
    daily: pl.Series | None
    fee: pl.Series
    upfront: pl.Series
    term: pl.Series
    free_days: pl.Series
    payday_checks: Checks

    def per_loan(self) -> tuple[np.ndarray, ...]:
        """The per-loan arrays both of `check_loans`' paths take as they are."""
        ids = self.frame["loan_id"]
        return (_nulls(ids), *self.codes.values(), self.disbursed, self.disbursed_null, self.first_due)

    @functools.cached_property
    def in_place(self) -> tuple[tuple[np.ndarray, ...], list[Buffers], tuple[bool, bool]] | None:
        """(per-loan inputs, column buffers, rates given) as `check_loans_in_place` reads them, or
        None unless the money is Decimal of scale 2, the rates float64 and the counts integers (as
        `generate` and books have them)."""
        rates = (self.annual, self.daily, self.fee, self.upfront)
        decimal = all(
            isinstance(c.dtype, pl.Decimal) and c.dtype.scale == 2 for c in (self.principal, self.multiple)
        )
        floats = all(c is None or c.dtype == pl.Float64 for c in rates)
        counts = all(c.dtype in (pl.Int32, pl.Int64) for c in (self.term, self.free_days))
        if not (decimal and floats and counts):
            return None
        # a rate given nowhere (`given` says so) reads as a column of zeros
        stand_in = (
            pl.Series(np.zeros(self.frame.height, np.float64)) if any(c is None for c in rates) else None
        )
        columns = [
            buffers(self.principal, "int64", width=2), buffers(self.multiple, "int64", width=2),
            *(buffers(c if c is not None else stand_in, "float64") for c in rates),
            *(buffers(c, "int32" if c.dtype == pl.Int32 else "int64") for c in (self.term, self.free_days)),
        ]  # fmt: skip
        inputs = tuple(readonly(a) for a in self.per_loan())
        return inputs, columns, (self.annual is not None, self.daily is not None)

    def checked_in_place(self, kernel: Callable[..., None], leading: tuple, trailing: tuple) -> bool | None:
        """Run a fused kernel over the loans' buffers, which checks each loan and uses it at once:
        `kernel(lo, hi, *leading, <check_loans_in_place's arguments>, flags, *trailing)` for each
        piece lo:hi, on all cores, `flags` the piece's rule bits. Returns whether every loan is
        good (what the kernel wrote is then the answer; else `arrays` names what broke), or None
        when the columns cannot be read in place or a loan id is missing."""
        place = self.in_place
        ids = self.frame["loan_id"]
        if place is None or ids.null_count():
            return None
        inputs, columns, given = place
        flags = np.empty(ids.len(), dtype=np.uint32)

        def run(
            lo: int, hi: int, values: tuple[np.ndarray, ...], validity: tuple[np.ndarray, ...], starts: Any
        ) -> None:
            kernel(
                lo, hi, *leading, *inputs, values[:2], values[2:6], given, values[6], values[7], validity, starts,
                flags[lo:hi], *trailing,
            )  # fmt: skip

        over_pieces(run, columns, ids.len())
        return not (flags.any() or _duplicated(ids).any() or self.payday_checks.found)

    def arrays(self, servicing: Any = None) -> LoanArrays:
        """The rest of `prepare_loans`: cast and check, reject or raise, and hand over the arrays."""
        frame, codes = self.frame, self.codes
        n, ids, checks = frame.height, frame["loan_id"], Checks(frame)
        principal_col, multiple_col, term_col, free_col = self.principal, self.multiple, self.term, self.free_days  # fmt: skip
        annual_col, daily_col, fee_col, upfront_col = self.annual, self.daily, self.fee, self.upfront
        per_loan = self.per_loan()
        cast = _loans_in_place(self)
        if cast is None:  # the columns converted one by one, then checked (a null's slot is not read)
            principal, principal_overflow = _money(principal_col)
            principal_missing = _nulls(principal_col)
            rate = _rate_columns(annual_col, daily_col, n)
            multiple, multiple_overflow = _money(multiple_col)
            fee_num, upfront_num = to_rate(fee_col), to_rate(upfront_col)
            free_days = free_col.cast(pl.Int64, strict=False).fill_null(-1).to_numpy(writable=True)
            annual_num, term, multiple_fen = (np.empty(n, dtype=np.int64) for _ in range(3))
            flags = np.empty(n, dtype=np.uint32)
            over_chunks(
                check_loans, n,
                *(readonly(a) for a in (
                    *per_loan[:6], principal, principal_overflow & ~principal_missing, principal_missing, *rate,
                    term_col.cast(pl.Float64).fill_null(1).to_numpy(), _nulls(term_col), *per_loan[6:], multiple,
                    multiple_overflow, fee_num, upfront_num, free_days,
                )),
                annual_num, term, multiple_fen, flags,
            )  # fmt: skip
        else:
            principal, annual_num, term, multiple_fen, fee_num, upfront_num, free_days, flags = cast
        duplicated = _duplicated(ids)
        if flags.any() or duplicated.any() or self.payday_checks.found:  # name what broke, in rule order
            rate_col = annual_col if annual_col is not None else daily_col
            assert rate_col is not None
            values = {
                **self.enum_values,
                "term": term_col,
                "interest_free_days": free_col,
                "daily_rate": daily_col,
            }
            for bit, (column, rule) in enumerate(LOAN_RULES):
                if bit == validate.ID_DUPLICATE:
                    checks.add(duplicated, column, rule)
                    continue
                if bit == validate.FIRST_DUE_NOT_AFTER:  # payday's own rule, checked where its dates are made
                    checks.found.extend(self.payday_checks.found)
                mask = (flags & (1 << bit)) != 0
                if column == "rate":
                    checks.add(mask, rate_col.name, rule, rate_col)
                else:
                    checks.add(mask, column, rule, values.get(column))

        extra: dict[str, np.ndarray] = {}
        if servicing is not None:
            extra = servicing(
                frame,
                self.defaults,
                {"annual_num": annual_num, "disbursed_on": self.disbursed, **codes},
                checks,
            )
        rejected = checks.rejected()
        if rejected.any() and self.errors == "raise":
            raise ValidationError(checks.message(), checks.table())
        keep = ~rejected

        def ok(values: np.ndarray, dtype: Any) -> np.ndarray:
            # writable and contiguous whatever the input was, so each kernel compiles for one array type
            # (a 0-d value of the whole call stays one value)
            return np.require(values[keep] if rejected.any() and values.ndim else values, dtype, ("C", "W"))

        return LoanArrays(
            loan_id=ids.filter(pl.Series(keep)) if rejected.any() else ids,
            principal=ok(principal, np.int64),
            annual_num=ok(annual_num, np.int64),
            term=ok(term, np.int64),
            term_unit=ok(codes["term_unit"], np.int8),
            disbursed_on=ok(self.disbursed, np.int32),
            first_due_on=ok(self.first_due, np.int32),
            method=ok(codes["method"], np.int8),
            day_count=ok(codes["day_count"], np.int8),
            interest_basis=ok(codes["interest_basis"], np.int8),
            rounding=ok(codes["rounding"], np.int8),
            installment_multiple=ok(multiple_fen, np.int64),
            installment_fee_num=ok(fee_num, np.int64),
            upfront_fee_num=ok(upfront_num, np.int64),
            interest_free_days=ok(free_days, np.int64),
            rejects=checks.table(),
            servicing={name: ok(values, values.dtype) for name, values in extra.items()},
            kept=keep,
        )


def day_number(value: dt.date | str, name: str) -> int:
    """Days since 1970-01-01 of a date (or ISO string) argument."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")
    return (value - EPOCH).days


def date_of(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


PAYDAY_LAG = 1  # installments fall due the day after payday
PAYDAY_MIN_DAYS = 15  # a payday-aligned first period lasts at least this long


def payday_due_dates(disbursed: np.ndarray, payday: np.ndarray, lag: int, min_days: int) -> np.ndarray:
    """First due dates (days since epoch) on day `payday + lag` of a month (at most the 31st), the
    first such day at least `min_days` after disbursement. The day itself, never clipped, so that
    later due dates keep it (a 31st skips short months: one of the next four months has it)."""
    due_day = np.minimum(payday + lag, 31)
    start_day = disbursed.astype("datetime64[D]")
    month = start_day.astype("datetime64[M]")
    chosen = np.full(disbursed.shape[0], NO_DATE, dtype=np.int64)
    for ahead in range(4):
        first = (month + ahead).astype("datetime64[D]")
        length = ((month + ahead + 1).astype("datetime64[D]") - first).astype(np.int64)
        candidate = (first + (due_day - 1)).astype(np.int64)
        take = (chosen == NO_DATE) & (due_day <= length) & (candidate - disbursed >= min_days)
        chosen[take] = candidate[take]
    return chosen


def _payday_first_due(
    frame: pl.DataFrame, payday: pl.Series, first_due: pl.Series | None, disbursed: np.ndarray,
    term_unit: np.ndarray, checks: Checks,
) -> pl.Series:  # fmt: skip
    """`first_due_on` with payday-aligned dates filled in for monthly loans that give none."""
    days = _whole(payday.fill_null(1), "payday", checks, 1, 31)
    aligned = payday_due_dates(disbursed.astype(np.int64), days, PAYDAY_LAG, PAYDAY_MIN_DAYS)
    wanted = ~_nulls(payday) & (term_unit != TermUnit.DAY)
    given = np.zeros(frame.height, bool) if first_due is None else ~_nulls(first_due)
    dates = pl.Series("first_due_on", np.where(wanted, aligned, NO_DATE)).cast(pl.Int32)
    dates = dates.set(pl.Series(~wanted), None).cast(pl.Date)
    return dates if first_due is None else first_due.cast(pl.Date).zip_with(pl.Series(given), dates)


def _money(column: pl.Series, minimum: int = -MAX_FEN) -> tuple[np.ndarray, np.ndarray]:
    try:
        return to_fen(column, minimum=minimum)
    except TypeError as exc:
        raise ValidationError(str(exc)) from None


def _rate_parameters(
    frame: pl.DataFrame, defaults: dict[str, Any]
) -> tuple[pl.Series | None, pl.Series | None]:
    """`annual_rate` and `daily_rate` (columns or keywords), for `check_loans` to choose from."""
    annual_col = _parameter(frame, "annual_rate", defaults)
    daily_col = _parameter(frame, "daily_rate", defaults)
    if annual_col is None and daily_col is None:
        raise ValidationError("no rate: give column 'annual_rate' or 'daily_rate' (or the keyword)")
    for column in (annual_col, daily_col):
        if column is not None and not (column.dtype.is_numeric() or isinstance(column.dtype, pl.Decimal)):
            raise ValidationError(f"column {column.name!r} must be numeric, not {column.dtype}")
    return annual_col, daily_col


def _rate_columns(
    annual_col: pl.Series | None, daily_col: pl.Series | None, n: int
) -> tuple[np.ndarray, ...]:
    """The two rates scaled by RATE_SCALE, each beside whether the loan gives it, as `check_loans`
    takes them: annual, has_annual, daily, has_daily."""

    def scaled(column: pl.Series | None) -> tuple[np.ndarray, np.ndarray]:
        if column is None:
            return np.zeros(n, np.int64), np.zeros(n, np.bool_)
        return to_rate(column), ~_nulls(column)

    return (*scaled(annual_col), *scaled(daily_col))


def _loans_in_place(staged: StagedLoans) -> tuple[np.ndarray, ...] | None:
    """The loans' money, rate and count columns cast and checked in one pass over their Arrow
    buffers (`check_loans_in_place`, on all cores): (principal fen, annual_num, term, multiple fen,
    fee_num, upfront_num, free days, rule flags). None where `StagedLoans.in_place` is: the
    other path converts each column first, with the same results."""
    place = staged.in_place
    if place is None:
        return None
    inputs, columns, given = place
    n = staged.frame.height
    outputs = tuple(np.empty(n, dtype=np.int64) for _ in range(7))
    flags = np.empty(n, dtype=np.uint32)

    def check(
        lo: int, hi: int, values: tuple[np.ndarray, ...], validity: tuple[np.ndarray, ...], starts: np.ndarray
    ) -> None:
        validate.check_loans_in_place(
            lo, hi, *inputs, values[:2], values[2:6], given, values[6], values[7], validity, starts,
            *(o[lo:hi] for o in outputs), flags[lo:hi],
        )  # fmt: skip

    over_pieces(check, columns, n)
    return (*outputs, flags)


# ---------------------------------------------------------------------------------------------
# Servicing: the terms `accrue` reads and the state it keeps in the book.

SERVICING_DEFAULTS: dict[str, Any] = {
    "penalty_rate": None,  # daily; None: penalty_multiplier × the contract daily rate
    "penalty_multiplier": 1.5,
    "grace_days": 0,
    "compound": True,
    "compound_after_days": 0,
    "late_fee_rate": 0.0,
    "late_fee_after_days": 1,
    "non_accrual_after_days": 90,
    "write_off_after_days": None,  # None: never
    "allocation": Allocation.OLDEST_FIRST,
    "prepay": Prepay.REDUCE_TERM,
    "prepay_fee_rate": 0.0,
    "prepay_keeps_fees": False,
}
SERVICING_ENUMS: dict[str, type[Convention]] = {"allocation": Allocation, "prepay": Prepay}
NEVER = 2**40  # a day count no loan reaches: "off"

# The book: loans plus these state columns (a fresh loans table, or a null `accrued_through`,
# starts at disbursement). Money is Decimal(18, 2); `unpaid` lists the billed installments not
# yet paid in full, oldest first (fields: `accrual.kernels.ledger.RECORD_NAMES`).
BOOK_STATE = {
    "accrued_through": "last day serviced (disbursement − 1 for a fresh loan)",
    "status": "active, closed or written_off",
    "dpd": "days past due of the oldest unpaid installment (0 when none)",
    "bucket": "M0 current, M1 1–30, M2 31–60, M3 61–90, M3+ 91+",
    "principal_outstanding": "principal not yet due",
    "principal_due": "principal billed and unpaid",
    "interest_accrued": "contract interest accrued in the current period, not yet billed",
    "interest_due": "interest billed (and grace-day interest) unpaid",
    "fee_due": "installment fees billed and unpaid",
    "penalty_due": "penalty, compound interest and late fees unpaid",
    "credit": "money kept for the borrower (overpayment)",
    "principal_repaid": "principal paid so far, including prepayments",
    "principal_written_off": "principal written off",
    "installment": "the fixed amount: the annuity (equal installment) or P/n (equal principal)",
    "interest_settled": "contract interest of the current period already paid, at a prepayment (interest to the day)",
    "next_due_on": "next due date (null when nothing is left to bill)",
    "installments_left": "installments not yet billed",
    "period_start": "start of the current period (last due date, or disbursement)",
    "accruing_since": "start of the current accrual segment: the period's start, or the latest settlement in it",
    "prepaid_on": "day of the latest prepayment (null when none)",
    "period_weight": "the period's length in 1/(12 · year days) years, as `period_interest` takes it",
    "settled_balance_days": "Σ balance × day-count days of the current period before `accruing_since`, in fen-days:"
    " with it the period's interest stays one amount, rounded once, however often it is settled",
    "extension_due_on_1": "due date of the latest grace extension (宽限期)",
    "extension_days_1": "its days",
    "extension_due_on_2": "due date of the extension before it",
    "extension_days_2": "its days",
    "unpaid": "unpaid installments, oldest first",
}
STATE_MONEY = (
    "principal_outstanding",
    "interest_accrued",
    "credit",
    "principal_repaid",
    "principal_written_off",
    "installment",
    "interest_settled",
)
STATE_DATES = ("next_due_on", "period_start", "accruing_since", "prepaid_on")
STATE_COUNTS = ("installments_left", "period_weight", "settled_balance_days")
# Added after books were first written: a book without them has settled nothing in its period.
STATE_OPTIONAL = ("interest_settled", "settled_balance_days")


def _whole(column: pl.Series, name: str, checks: Checks, low: int, high: int) -> np.ndarray:
    """An integer parameter within [low, high]; other values are rejected."""
    values = column.cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy()
    bad = ~((values >= low) & (values <= high) & (values == np.floor(values)))
    checks.add(bad, name, f"must be a whole number in [{low}, {high}]", column)
    return np.where(bad, low, values).astype(np.int64)


def _flag(column: pl.Series, checks: Checks) -> np.ndarray:
    name = column.name
    if column.dtype != pl.Boolean:
        raise ValidationError(f"column {name!r} must be true/false, not {column.dtype}")
    checks.add(_nulls(column), name, "required value is missing")
    return column.fill_null(False).to_numpy().astype(np.int64)


def _fraction(column: pl.Series, checks: Checks) -> np.ndarray:
    values = to_rate(column)
    checks.add((values < 0) | (values >= RATE_SCALE), column.name, "must be in [0, 1)", column)
    return np.maximum(values, 0)


def _per_loan(
    frame: pl.DataFrame,
    name: str,
    fills: dict[str, Any],
    checks: Checks,
    convert: Callable[[pl.Series, Checks], np.ndarray],
) -> np.ndarray:
    """`convert(column, checks)` of a parameter per loan. A keyword or default for the whole call
    is converted once and returned as a 0-d array, one value for every loan (a book rarely
    carries servicing columns; building a dozen 1M-loan columns of one value and copying them
    into the kernel's rows took ≈ 20 ms a day at 1M loans); if it breaks a rule, every loan is
    checked instead, so the rejects name each."""
    if frame.height == 0 or (name in frame.columns and frame[name].dtype != pl.Null):
        column = _parameter(frame, name, fills)
        assert column is not None
        return convert(column, checks)
    first = frame.head(1)
    one = Checks(first)
    column = _parameter(first, name, fills)
    assert column is not None
    value = convert(column, one)
    if one.found:
        column = _parameter(frame, name, fills)
        assert column is not None
        return convert(column, checks)
    return value[0, ...]  # 0-d: broadcasts


def servicing_terms(
    frame: pl.DataFrame, defaults: dict[str, Any], loan: dict[str, np.ndarray], checks: Checks
) -> dict[str, np.ndarray]:
    """Servicing parameters per loan in kernel units (see `accrual.kernels.accrue.Term`); one
    given for the whole call is a 0-d array (`every_loan` spreads it where a kernel needs a column)."""
    fills = {**SERVICING_DEFAULTS, **defaults}

    def get(name: str) -> pl.Series | None:
        return _parameter(frame, name, fills)

    def per_loan(name: str, convert: Callable[[pl.Series, Checks], np.ndarray]) -> np.ndarray:
        return _per_loan(frame, name, fills, checks, convert)

    def whole(low: int, high: int) -> Callable[[pl.Series, Checks], np.ndarray]:
        return lambda column, found: _whole(column, column.name, found, low, high)

    out: dict[str, np.ndarray] = {}
    for name, enum in SERVICING_ENUMS.items():
        if name in frame.columns:
            column = get(name)
            assert column is not None
            codes = _codes(column, enum)
            choices = ", ".join(m.canonical for m in enum)
            checks.add(codes < 0, name, f"unknown {name} (expected one of: {choices})")
        else:
            codes = np.array(int(enum.parse(fills[name])), dtype=np.int8)
        out[name] = codes.astype(np.int64)
    multiplier = per_loan("penalty_multiplier", _multiplier)  # checked even where a rate overrides it
    rate_col = get("penalty_rate")
    given = None if rate_col is None else ~_nulls(rate_col)
    if given is None or not given.all():  # the default: a multiple of the contract rate
        penalty = np.rint(multiplier * 2 * loan["annual_num"]).astype(np.int64)
    if rate_col is not None and given is not None:  # a daily rate, in place (a generated book has one a loan)
        daily = to_rate(rate_col)
        checks.add(given & ((daily < 0) | (daily >= MAX_DAILY_NUM)), "penalty_rate",
                   "must be a daily rate in [0, 1%)", rate_col)  # fmt: skip
        np.maximum(daily, 0, out=daily)
        daily *= np.where(loan["day_count"] == DayCount.ACT_365, 2 * 365, 2 * 360)  # × 2 · year_days
        penalty = daily if given.all() else np.where(given, daily, penalty)
    out["penalty_num"] = penalty
    out["grace_days"] = per_loan("grace_days", whole(0, 3650))
    compound_after = per_loan("compound_after_days", whole(0, 3650))
    out["compound_after"] = np.where(per_loan("compound", _flag) == 1, compound_after, -1)
    out["late_fee_num"] = per_loan("late_fee_rate", _fraction)
    out["late_fee_after"] = per_loan("late_fee_after_days", whole(1, 3650))
    out["non_accrual_after"] = _days_or_never(frame, "non_accrual_after_days", fills, checks)
    write_off = _days_or_never(frame, "write_off_after_days", fills, checks)
    out["write_off_after"] = np.where(write_off == NEVER, 0, write_off)
    out["prepay_fee_num"] = per_loan("prepay_fee_rate", _fraction)
    out["keeps_fees"] = per_loan("prepay_keeps_fees", _flag)
    return out


def every_loan(values: np.ndarray, n: int) -> np.ndarray:
    """A servicing parameter as a column of n loans (a 0-d value of the whole call, repeated)."""
    return np.full(n, values, dtype=values.dtype) if values.ndim == 0 else values


def _multiplier(column: pl.Series, checks: Checks) -> np.ndarray:
    """The penalty multiplier (of the contract daily rate), 0 where it breaks its rule."""
    values = column.cast(pl.Float64).fill_null(1.5).to_numpy()
    checks.add(~(values >= 0) | (values > 100), column.name, "must be in [0, 100]")
    return np.nan_to_num(values)


def _days_or_never(frame: pl.DataFrame, name: str, fills: dict[str, Any], checks: Checks) -> np.ndarray:
    """A day threshold (>= 1) per loan; null or absent means never."""
    if _parameter(frame.head(0), name, fills) is None:
        return np.array(NEVER, dtype=np.int64)

    def convert(column: pl.Series, found: Checks) -> np.ndarray:
        values = _whole(column.fill_null(1), name, found, 1, 100_000)
        return np.where(_nulls(column), NEVER, values)

    return _per_loan(frame, name, fills, checks, convert)


def book_state(frame: pl.DataFrame, loan: dict[str, np.ndarray], checks: Checks) -> dict[str, np.ndarray]:
    """The servicing state of each loan (see BOOK_STATE); rows with a null `accrued_through` are fresh."""
    n = frame.height
    through_col = frame["accrued_through"] if "accrued_through" in frame.columns else None
    if through_col is None or through_col.dtype == pl.Null:
        return {"fresh": np.ones(n, dtype=np.bool_)}
    in_place = _state_in_place(frame, loan, checks)
    if in_place is not None:
        return in_place
    through, nulls = _days(through_col, "accrued_through")
    fresh = nulls.copy()  # the kernels take it: writable, as for a fresh table
    out: dict[str, np.ndarray] = {"fresh": fresh, "accrued_through": through}
    absent = [c for c in (*STATE_MONEY, *STATE_DATES, *STATE_COUNTS, "status") if c not in frame.columns]
    missing = [c for c in absent if c not in STATE_OPTIONAL]
    if missing and not fresh.all():
        raise ValidationError(f"book column(s) {', '.join(missing)} missing: a book needs every state column")
    serviced = ~fresh  # the loans whose state is checked
    checks.add(serviced & (through < loan["disbursed_on"] - 1), "accrued_through", "before disbursement")
    for name in absent:
        if name in STATE_OPTIONAL:
            out[name] = np.zeros(n, dtype=np.int64)
    for name in (c for c in STATE_MONEY if c not in absent):
        fen, bad = _money(frame[name], minimum=0)  # bad: negative or beyond MAX_FEN
        if frame[name].null_count():
            bad |= _nulls(frame[name])
        checks.add(np.logical_and(bad, serviced, out=bad), name, "must be an amount >= 0")
        out[name] = fen
    status = _codes(frame["status"], Status)
    checks.add(serviced & (status < 0), "status", "unknown status (expected active, closed or written_off)")
    out["status"] = np.maximum(status, 0).astype(np.int32)
    for name in STATE_DATES:
        out[name], missing_date = _days(frame[name], name)
        if name in ("period_start", "accruing_since"):  # every serviced loan has a current period
            checks.add(serviced & missing_date, name, "must be a date")
        elif name == "next_due_on" and "principal_outstanding" in out:  # what is not yet due falls due on it
            owed = serviced & (status == Status.ACTIVE) & (out["principal_outstanding"] > 0)
            checks.add(owed & missing_date, name, "must be a date while principal is outstanding")
    for name in (c for c in STATE_COUNTS if c not in absent):  # as `accrue` stages them
        column = frame[name]
        out[name] = column.cast(pl.Int32 if name == "installments_left" else pl.Int64).fill_null(0).to_numpy()
        checks.add(serviced & (_nulls(column) | (out[name] < 0)), name, "must be a whole number >= 0")
    return out


# The book state as `check_state` reads it in place, and its rules in bit order.
STATE_NARROW = ("accrued_through", *STATE_DATES, "installments_left")  # int32
STATE_WIDE = ("period_weight", "settled_balance_days")  # int64
STATE_RULES = (
    ("accrued_through", "before disbursement"),
    *((name, "must be an amount >= 0") for name in STATE_MONEY),
    ("status", "unknown status (expected active, closed or written_off)"),
    ("next_due_on", "must be a date while principal is outstanding"),
    ("period_start", "must be a date"),
    ("accruing_since", "must be a date"),
    *((name, "must be a whole number >= 0") for name in STATE_COUNTS),
)
assert len(STATE_RULES) == validate.STATE_RULES
assert STATE_NARROW[1:5] == STATE_DATES
assert (STATE_NARROW[-1], *STATE_WIDE) == STATE_COUNTS


def _state_in_place(
    frame: pl.DataFrame, loan: dict[str, np.ndarray], checks: Checks
) -> dict[str, np.ndarray] | None:
    """`book_state` in one pass over the columns' Arrow buffers (`check_state`, on all cores),
    for a book in the types `accrue` writes (as a Parquet round trip keeps them); None for any
    other book, which takes the column-by-column path. The same arrays and the same rejects:
    one pass instead of ≈ 25, and no temporaries (39–45 → 21–31 ms a 1M book in the call)."""
    types = {
        **dict.fromkeys(STATE_NARROW[:-1], pl.Date), "installments_left": pl.Int32,
        **dict.fromkeys(STATE_WIDE, pl.Int64), **dict.fromkeys(STATE_MONEY, pl.Decimal(18, 2)),
    }  # fmt: skip
    for name, dtype in types.items():
        if name not in frame.columns or frame[name].dtype != dtype:
            return None
    status = frame["status"]
    if not isinstance(status.dtype, pl.Enum) or status.to_physical().dtype != pl.UInt8:
        return None
    aliases = Status.aliases()
    lookup = readonly(
        np.array([_lookup(aliases, c) for c in status.dtype.categories.to_list()] + [-1], np.int8)
    )
    columns = [
        *(buffers(frame[name], "int32") for name in STATE_NARROW),
        *(buffers(frame[name], "int64", width=2) for name in STATE_MONEY),
        *(buffers(frame[name], "int64") for name in STATE_WIDE),
        buffers(status.to_physical(), "uint8"),
    ]
    n = frame.height
    fresh = np.empty(n, dtype=np.bool_)
    # a column each, not one matrix: at a 1M-loan slice each fits glibc's heap (≤ 32 MB), whose
    # pages the next slice reuses, where a matrix would be a fresh mapping every time
    narrow = tuple(np.empty(n, dtype=np.int32) for _ in STATE_NARROW)
    money = tuple(np.empty(n, dtype=np.int64) for _ in STATE_MONEY)
    wide = tuple(np.empty(n, dtype=np.int64) for _ in STATE_WIDE)
    codes = np.empty(n, dtype=np.int32)
    flags = np.empty(n, dtype=np.uint32)
    disbursed = readonly(loan["disbursed_on"])
    m, w = len(STATE_NARROW), len(STATE_NARROW) + len(STATE_MONEY)

    def check(
        lo: int, hi: int, values: tuple[np.ndarray, ...], validity: tuple[np.ndarray, ...], starts: np.ndarray
    ) -> int:
        return validate.check_state(
            lo, hi, disbursed, values[:m], values[m:w], values[w:-1], values[-1], lookup, validity, starts,
            fresh, narrow, money, wide, codes, flags,
        )  # fmt: skip

    broken = 0
    for seen in over_pieces(check, columns, n):
        broken |= seen
    for bit, (name, rule) in enumerate(STATE_RULES):
        if broken >> bit & 1:
            checks.add((flags >> bit & 1).astype(np.bool_), name, rule)
    return {
        "fresh": fresh,
        **dict(zip(STATE_NARROW, narrow, strict=True)),
        **dict(zip(STATE_MONEY, money, strict=True)),
        **dict(zip(STATE_WIDE, wide, strict=True)),
        "status": codes,
    }
