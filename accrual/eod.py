"""The end-of-day batch: `accrue(book, as_of, payments, extensions, **defaults)`.

Validate the book, its payments and grace extensions → cast them to kernel arrays (payments
sorted by loan and day, with per-loan offsets) → one kernel call walks every loan through every
day up to `as_of` (count pass, then fill pass) → the new book and its postings, built around the
kernel's buffers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal, NamedTuple, TypeVar, overload

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from accrual.buffers import validity
from accrual.conventions import Prepay, enum_series
from accrual.io import release_memory, small_pages, sparse_empty
from accrual.kernels import ledger
from accrual.kernels.accrue import (
    CODE_TERMS,
    COUNT_OUT,
    DATE_OUT,
    MONEY_OUT,
    WEIGHT_OUT,
    WIDE_STATE,
    WIDE_TERMS,
    State,
    Term,
    due_date_index,
    region_estimates,
    service_chunk,
)
from accrual.kernels.dates import NO_DATE
from accrual.kernels.validate import AMOUNT, FLAG, PRESENT, VALUE, unpaid_field, unpaid_lengths
from accrual.money import fen_to_money, money_array, readonly, to_fen
from accrual.schema import (
    BOOK_STATE,
    Checks,
    ValidationError,
    _codes,
    _days,
    _nulls,
    as_polars,
    book_state,
    date_of,
    day_number,
    increasing_ids,
    positions,
    prepare_loans,
    servicing_terms,
)
from accrual.threads import behind, chunk_bounds, in_parallel

T = TypeVar("T")

MAX_EXTENSION_DAYS = 3  # SPEC.md section 4: at most 3 days each
MAX_EXTENSIONS_PER_YEAR = 2  # at most 2 per rolling 365 days per loan
RECORD_MONEY = ledger.RECORD_NAMES[ledger.OWED_PRINCIPAL : ledger.OWED_PRINCIPAL + ledger.N_RECORD_MONEY]


class Payments(NamedTuple):
    """Accepted payments sorted by (loan, day, payment_id); loan i's are rows offsets[i]:offsets[i + 1]."""

    offsets: np.ndarray  # int64
    paid_on: np.ndarray  # int32 days
    amount: np.ndarray  # int64 fen
    prepay: np.ndarray  # int8 Prepay code, -1 for the loan's own


class Accrual(NamedTuple):
    """What `accrue` returns: the book as of the run's date, and the ledger postings it made."""

    book: pl.DataFrame
    postings: pl.DataFrame


@overload
def accrue(
    book: Any,
    as_of: dt.date | str,
    payments: Any = ...,
    extensions: Any = ...,
    *,
    errors: Literal["raise"] = ...,
    postings: str = ...,
    **defaults: Any,
) -> Accrual: ...
@overload
def accrue(
    book: Any,
    as_of: dt.date | str,
    payments: Any = ...,
    extensions: Any = ...,
    *,
    errors: Literal["reject"],
    postings: str = ...,
    **defaults: Any,
) -> tuple[Accrual, pl.DataFrame]: ...


@overload
def accrue(
    book: Any,
    as_of: dt.date | str,
    payments: Any = ...,
    extensions: Any = ...,
    *,
    errors: str,
    postings: str = ...,
    **defaults: Any,
) -> Any: ...


def accrue(
    book: Any,
    as_of: dt.date | str,
    payments: Any = None,
    extensions: Any = None,
    *,
    errors: str = "raise",
    postings: str = "detail",
    **defaults: Any,
) -> Any:
    """Service every loan of `book` through `as_of`: bill, collect, accrue, age, penalise, write off.

    `book` is a loans table (fresh loans start at disbursement) or a book returned by an earlier
    run (each loan resumes the day after its `accrued_through`); catch-up over many days is one
    call. `payments` has `payment_id, loan_id, paid_on, amount` (optional `prepay`, overriding
    the loan's strategy for that payment); `extensions` has `loan_id, due_on, days` (grace
    extensions, at most 3 days, at most 2 per rolling 365 days per loan). Parameters are book
    columns or keywords: see `accrual.schema.SERVICING_DEFAULTS`, and `accrual.presets`.

    `postings="detail"` gives one row per loan, day and kind with a non-zero amount;
    `"summary"` gives totals per day and kind. With `errors="reject"` the result is
    `(Accrual, rejects)`: every loan and payment is in exactly one of the two. A book of more than
    `SLICE_LOANS` loans is serviced slice by slice, with the same results as in one call.

    >>> import datetime as dt, polars as pl, accrual as ac
    >>> loans = pl.DataFrame({"loan_id": [1], "principal": [1000.0], "daily_rate": [0.0005],
    ...                       "term": [3], "disbursed_on": [dt.date(2024, 4, 1)]})
    >>> book, postings = ac.accrue(loans, dt.date(2024, 4, 10), method="equal_principal")
    >>> book["interest_accrued"].item(), postings.height  # 10 days of 0.50
    (Decimal('5.00'), 10)
    """
    if postings not in ("detail", "summary"):
        raise ValueError(f"postings must be 'detail' or 'summary', not {postings!r}")
    frame = as_polars(book, "book")
    if frame.height <= SLICE_LOANS:
        return _accrue(frame, as_of, payments, extensions, errors, postings, defaults)
    with small_pages():  # the slices' outputs accumulate in cold pages (see `small_pages`)
        sliced = _in_slices(frame, as_of, payments, extensions, errors, postings, defaults)
        if sliced is not None:
            return sliced
        return _accrue(frame, as_of, payments, extensions, errors, postings, defaults)


# A book above this size is serviced slice by slice (`_in_slices`): each slice's temporaries
# reuse the heap pages the last one freed, where one call's are fresh pages the OS must zero
# (a 10M day: 3.3–3.9 s in 1M-loan slices against 5.2–7.4 s in one call, measured alternating).
# The heap is trimmed (`release_memory`) only in a call over more loans than this, whose
# temporaries would add GBs to its peak: one slice's (≈ 170 MB at 2^20 loans) stay in the heap
# for the next slice or call to reuse, as polars' own allocator keeps its freed pages (a 1M
# day, repeated: best 210–225 against 227–254 ms trimmed twice a call, 334 against 520 MB of
# fresh pages a call, the first call's extra peak 573 against 541–569 MB).
SLICE_LOANS = 1 << 20


def _in_slices(
    frame: pl.DataFrame, as_of: Any, payments: Any, extensions: Any, errors: str, postings: str,
    defaults: dict[str, Any],
) -> Any:  # fmt: skip
    """`accrue` over consecutive slices of the book, each with its own payments and extensions,
    the results concatenated (the same, by the batch-size invariant). None when the input has a
    problem only the whole book can name (a duplicate loan or payment id, a payment or extension
    for a loan not in the book, any rejected or invalid row): the one call then reports it
    exactly as always."""
    ids = frame["loan_id"]
    keys = increasing_ids(ids)
    if keys is None and (ids.null_count() or ids.is_duplicated().any()):
        return None  # (increasing ids, as generated and as books keep them, need no hashing)
    starts = np.arange(0, frame.height, SLICE_LOANS)
    routed: list[tuple[Any, np.ndarray | None]] = []  # each table, with its rows' slices
    for table, what in ((payments, "payments"), (extensions, "extensions")):
        if table is None:
            routed.append((None, None))
            continue
        table = as_polars(table, what)
        if "loan_id" not in table.columns or (what == "payments" and "payment_id" not in table.columns):
            return None
        if what == "payments" and table["payment_id"].is_duplicated().any():
            return None
        wanted = table["loan_id"]
        if keys is not None and ids.dtype != pl.UInt64 and wanted.dtype.is_integer():
            # Increasing ids: each slice holds a range of them, found among the slices' first ids
            # (a search over 10 keys, not 10M: 60 ms for 300k payments). A row for a loan not in
            # the book goes to the slice its id falls in (the first, below the first id), whose own
            # checks find it.
            wanted = wanted.cast(pl.Int64, strict=False)
            if wanted.null_count():
                return None
            at = np.searchsorted(keys[starts].astype(np.int64), wanted.to_numpy(), side="right")
            at = np.maximum(at - 1, 0)
        else:
            found = positions(wanted, ids)
            if found.null_count():
                return None
            at = found.cast(pl.Int64).to_numpy() // SLICE_LOANS
        routed.append((table, at))

    def steps(k: int) -> Iterator[Any]:  # slice k's `_servicing`, its kernel on the helper thread
        lo, hi = starts[k], min(starts[k] + SLICE_LOANS, frame.height)
        mine = [None if at is None else t.filter(pl.Series(at == k)) for t, at in routed]
        return _servicing(
            frame.slice(lo, hi - lo), as_of, mine[0], mine[1], errors, postings, defaults,
            lambda work, *arguments: behind(kernel, work, *arguments),
        )  # fmt: skip

    # Pipelined: slice k's kernel runs on a helper thread while this thread stages slice k + 1,
    # then builds slice k's tables (while k + 1's kernel runs). Every allocation stays on this
    # thread, in its heap arena, where the next slice reuses the pages the last one freed (two
    # slices side by side on two threads gained 3–5%: the second arena's heaps unmap and refault).
    results = []
    with ThreadPoolExecutor(1, thread_name_prefix="accrual-kernel") as kernel:  # its exit waits for it
        running = None  # the slice staged last, its kernel launched
        for k in range(starts.shape[0]):
            staged = steps(k)
            try:
                if next(staged):  # a row rejected
                    return None
            except ValidationError:
                return None
            if running is not None:
                results.append(next(running))
            running = staged
        assert running is not None
        results.append(next(running))
    if errors == "reject":
        rejects = results[0][1]  # (empty: every slice's is)
        results = [result for result, _ in results]
    posted = [result.postings for result in results]
    combined = summed(posted) if postings == "summary" else pl.concat(posted, rechunk=False)
    out = Accrual(pl.concat([result.book for result in results], rechunk=False), combined)
    return (out, rejects) if errors == "reject" else out


def summed(summaries: list[pl.DataFrame]) -> pl.DataFrame:
    """Summary postings of parts of a book (slices, batches) as one book's: totals per day and kind."""
    combined = pl.concat(summaries)
    return (
        combined.group_by("posted_on", "kind")
        .agg(pl.col("amount").sum().cast(combined.schema["amount"]))
        .filter(pl.col("amount") != 0)
        .sort("posted_on", "kind")
    )


def _accrue(
    frame: pl.DataFrame, as_of: Any, payments: Any, extensions: Any, errors: str, postings: str,
    defaults: dict[str, Any],
) -> Any:  # fmt: skip
    """`accrue` in one call over the whole book."""
    steps = _servicing(frame, as_of, payments, extensions, errors, postings, defaults, _at_once)
    next(steps)
    return next(steps)


def _at_once(work: Callable[..., T], *arguments: Any) -> Future[T]:
    """work(*arguments), run now: a `_servicing` launch for a call that has nothing to do meanwhile."""
    done: Future[T] = Future()
    done.set_result(work(*arguments))
    return done


def _servicing(
    frame: pl.DataFrame, as_of: Any, payments: Any, extensions: Any, errors: str, postings: str,
    defaults: dict[str, Any], launch: Callable[..., Future[Any]],
) -> Iterator[Any]:  # fmt: skip
    """`accrue` in one call over `frame`, in two steps: the first `next` checks and stages the
    input, launches the kernel (`launch(work, *arguments)` runs it, now or on another thread, as a
    future) and yields the number of rows rejected; the second waits for the kernel and yields the
    result, built from its outputs."""
    day = day_number(as_of, "as_of")

    def servicing(
        frame: pl.DataFrame, defaults: dict[str, Any], loan: dict[str, np.ndarray], checks: Checks
    ) -> dict[str, np.ndarray]:
        terms = servicing_terms(frame, defaults, loan, checks)
        state = book_state(frame, loan, checks)
        if "accrued_through" in state:
            done = (
                ~state["fresh"]
                & (state["accrued_through"] >= day)
                & (state["accrued_through"] >= loan["disbursed_on"])
            )
            checks.add(
                done,
                "accrued_through",
                f"already accrued through as_of {date_of(day)}: refusing to post twice",
            )
        return {**terms, **{f"state_{k}": v for k, v in state.items()}}

    loans = prepare_loans(frame, defaults, errors, servicing=servicing)
    kept = frame.filter(pl.Series(loans.kept)) if not loans.kept.all() else frame
    state = {k[6:]: v for k, v in loans.servicing.items() if k.startswith("state_")}
    fresh = state["fresh"]
    through = np.where(fresh, loans.disbursed_on.astype(np.int64) - 1, state.get("accrued_through", 0))
    pay, pay_rejects = _payments(payments, kept, loans.disbursed_on, through, day, errors)
    extension = _extensions(extensions, kept, loans, fresh, through)
    # Only the staged columns go on (handed over in a list that `_run` empties, so they are
    # freed before the tables are built).
    staged = [*_terms(loans), *_state(state, extension)]
    loan_rejects = loans.rejects
    del loans, state, fresh, through
    if frame.height > SLICE_LOANS:  # a whole big book's temporaries: too many to keep (see SLICE_LOANS)
        release_memory()
    steps = _run(kept, staged, extension, pay, day, postings, launch)
    next(steps)  # the kernel runs
    yield loan_rejects.height + pay_rejects.height
    result = next(steps)
    yield (result, _rejects(loan_rejects, pay_rejects)) if errors == "reject" else result


def _rejects(loan_rejects: pl.DataFrame, payment_rejects: pl.DataFrame) -> pl.DataFrame:
    """One rejects table: `loan_id, payment_id, column, rule, value` (payment_id null for loans)."""
    columns = ["loan_id", "payment_id", "column", "rule", "value"]
    id_type = payment_rejects["payment_id"].dtype if "payment_id" in payment_rejects.columns else pl.Int64
    loans = loan_rejects.with_columns(pl.lit(None, dtype=id_type).alias("payment_id")).select(columns)
    if not payment_rejects.height:
        return loans
    payments = payment_rejects.with_columns(pl.col("loan_id").cast(loans["loan_id"].dtype, strict=False))
    return pl.concat([loans, payments.select(columns)])


def _payments(
    payments: Any, book: pl.DataFrame, disbursed: np.ndarray, through: np.ndarray, day: int, errors: str
) -> tuple[Payments, pl.DataFrame]:
    """Validated payments sorted by (loan, day, payment_id), with per-loan offsets."""
    n = book.height
    empty = Payments(
        np.zeros(n + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int8)
    )
    if payments is None:
        return empty, pl.DataFrame()
    frame = as_polars(payments, "payments")
    missing = [c for c in ("payment_id", "loan_id", "paid_on", "amount") if c not in frame.columns]
    if missing:
        raise ValidationError(f"payments column(s) {', '.join(missing)} missing")
    checks = Checks(frame, key="payment_id", what="payments")
    for name in ("payment_id", "loan_id", "paid_on", "amount"):
        checks.add(_nulls(frame[name]), name, "required value is missing")
    ids = frame["payment_id"]
    checks.add((ids.is_duplicated() & ids.is_not_null()).to_numpy(), "payment_id", "duplicate payment_id")
    found = positions(frame["loan_id"], book["loan_id"])
    known = found.is_not_null().to_numpy()
    checks.add(~known & ~_nulls(frame["loan_id"]), "loan_id", "unknown loan (or the loan is rejected)")
    position = found.fill_null(0).cast(pl.Int64).to_numpy()
    paid_on, _ = _days(frame["paid_on"], "paid_on")
    paid_on = paid_on.astype(np.int64)
    try:
        amount, overflow = to_fen(frame["amount"])
    except TypeError as exc:
        raise ValidationError(str(exc)) from None
    checks.add(overflow, "amount", "not a finite amount within ±10^14 yuan")
    checks.add(amount < 0, "amount", "must be >= 0")
    dated = ~_nulls(frame["paid_on"])
    checks.add(known & dated & (paid_on < disbursed[position]), "paid_on", "before the loan's disbursement")
    checks.add(dated & (paid_on > day), "paid_on", f"after as_of {date_of(day)}")
    checks.add(
        known & dated & (paid_on <= through[position]) & (paid_on >= disbursed[position]),
        "paid_on",
        "on a day the loan has already accrued",
    )
    if "prepay" in frame.columns and frame["prepay"].dtype != pl.Null:
        strategy = _codes(frame["prepay"], Prepay)
        given = ~_nulls(frame["prepay"])
        checks.add(
            given & (strategy < 0), "prepay", "unknown prepay (expected reduce_term or reduce_installment)"
        )
        strategy = np.where(given, strategy, -1)
    else:
        strategy = np.full(frame.height, -1)
    rejected = checks.rejected()
    if rejected.any() and errors == "raise":
        raise ValidationError(checks.message(), checks.table())
    keep = ~rejected
    # same-day payments apply in payment_id order, so input order never matters
    sorted_frame = pl.DataFrame(
        {"position": position[keep], "paid_on": paid_on[keep], "payment_id": ids.filter(pl.Series(keep)),
         "row": np.arange(int(keep.sum()))}
    ).sort("position", "paid_on", "payment_id")  # fmt: skip
    order = sorted_frame["row"].to_numpy()
    pos = position[keep][order]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pos, minlength=n), out=offsets[1:])
    return (
        Payments(
            offsets,
            np.ascontiguousarray(paid_on[keep][order], dtype=np.int32),
            np.ascontiguousarray(amount[keep][order], dtype=np.int64),
            np.ascontiguousarray(strategy[keep][order], dtype=np.int8),
        ),
        checks.table(),
    )


def _extensions(
    extensions: Any, book: pl.DataFrame, loans: Any, fresh: np.ndarray, through: np.ndarray
) -> dict[str, np.ndarray]:
    """The two latest grace extensions of each loan, the book's merged with `extensions`.

    Refuses (ValidationError) extensions longer than 3 days, more than 2 in 365 days, for an
    unknown loan, or for a date that is not one of the loan's due dates still to be billed.
    """
    n = book.height
    names = ("extension_due_on_1", "extension_days_1", "extension_due_on_2", "extension_days_2")
    history = []
    for k in (1, 2):
        due_col, days_col = f"extension_due_on_{k}", f"extension_days_{k}"
        if due_col in book.columns and book[due_col].null_count() < n:  # most books: none granted
            due = _days(book[due_col], due_col)[0]
            held = np.flatnonzero((due != NO_DATE) & ~fresh)
            days = book[days_col].cast(pl.Int64).fill_null(0).to_numpy()
            history.append(
                pl.DataFrame({"position": held, "due_on": due[held].astype(np.int64), "days": days[held]})
            )
    out: dict[str, np.ndarray] = {
        names[0]: np.full(n, NO_DATE, np.int32), names[1]: np.zeros(n, np.int32),
        names[2]: np.full(n, NO_DATE, np.int32), names[3]: np.zeros(n, np.int32),
    }  # fmt: skip
    if not history and extensions is None:
        return out
    new = pl.DataFrame(
        {"position": [], "due_on": [], "days": []},
        schema=dict.fromkeys(("position", "due_on", "days"), pl.Int64),
    )
    if extensions is not None:
        frame = as_polars(extensions, "extensions")
        missing = [c for c in ("loan_id", "due_on", "days") if c not in frame.columns]
        if missing:
            raise ValidationError(f"extensions column(s) {', '.join(missing)} missing")
        found = positions(frame["loan_id"], book["loan_id"])
        problems = []
        unknown = frame["loan_id"].filter(found.is_null())
        if unknown.len():
            problems.append(f"unknown loan(s): {_show(unknown)}")
        frame = frame.filter(found.is_not_null())
        position = found.drop_nulls().cast(pl.Int64).to_numpy()
        due, due_null = _days(frame["due_on"], "due_on")
        days = frame["days"].cast(pl.Int64, strict=False).fill_null(-1).to_numpy()
        bad_days = (days < 1) | (days > MAX_EXTENSION_DAYS)
        if bad_days.any():
            problems.append(
                f"days must be 1..{MAX_EXTENSION_DAYS}: loan(s) {_show(frame['loan_id'].filter(pl.Series(bad_days)))}"
            )
        due = due.astype(np.int64)
        index = due_date_index(
            due, position, loans.term, loans.term_unit, loans.method, loans.disbursed_on, loans.first_due_on
        )
        billed = due <= through[position]
        not_due = due_null | (index < 0)
        if (billed & ~not_due).any():
            problems.append(
                "due date already billed (grant an extension before its due date's EOD): loan(s) "
                + _show(frame["loan_id"].filter(pl.Series(billed & ~not_due)))
            )
        if not_due.any():
            problems.append(
                f"due_on is not one of the loan's due dates: loan(s) {_show(frame['loan_id'].filter(pl.Series(not_due)))}"
            )
        new = pl.DataFrame({"position": position, "due_on": due, "days": days})
        everything = pl.concat([*history, new.with_columns(pl.lit(True).alias("new"))], how="diagonal")
        everything = everything.with_columns(pl.col("new").fill_null(False)).sort("position", "due_on")
        twice = everything.filter(pl.struct("position", "due_on").is_duplicated())
        if twice.height:
            problems.append(
                f"more than one extension for the same due date: loan(s) {_show(book['loan_id'].gather(twice['position']))}"
            )
        window = everything.with_columns(
            earlier=pl.col("due_on").shift(MAX_EXTENSIONS_PER_YEAR).over("position")
        ).filter(pl.col("new") & (pl.col("due_on") - pl.col("earlier") < 365))
        if window.height:
            problems.append(
                f"more than {MAX_EXTENSIONS_PER_YEAR} extensions in 365 days: loan(s) "
                + _show(book["loan_id"].gather(window["position"]))
            )
        if problems:
            raise ValidationError("grace extensions refused:\n  " + "\n  ".join(problems))
    merged = (
        pl.concat([*history, new], how="diagonal").unique(["position", "due_on"]).sort("position", "due_on")
    )
    latest = merged.with_columns(rank=pl.col("due_on").rank("ordinal", descending=True).over("position"))
    for k in (1, 2):
        pick = latest.filter(pl.col("rank") == k)
        where = pick["position"].to_numpy()
        out[f"extension_due_on_{k}"][where] = pick["due_on"].to_numpy()
        out[f"extension_days_{k}"][where] = pick["days"].to_numpy()
    return out


def _show(ids: pl.Series) -> str:
    shown = ", ".join(repr(x) for x in ids.head(10).to_list())
    return shown + (f" and {ids.len() - 10} more" if ids.len() > 10 else "")


INT32_MAX = 2**31 - 1


def _split(rows: dict[int, np.ndarray], members: Any, wide: int) -> list[tuple[np.ndarray, ...]]:
    """Stage per-loan values as two tuples of columns, one per member, as the kernel takes them:
    the first `wide` members int64, the rest int32 (clipped: a day count beyond 2**31 means
    "never" all the same). A column already of its type is the validated array itself, not a
    copy; a value for the whole call (0-d) stays one value."""
    staged: list[list[np.ndarray]] = [[], []]
    for member in members:
        values = rows[member]
        dtype = np.int64 if member < wide else np.int32
        values = values.reshape(1) if values.ndim == 0 else values
        if values.dtype.itemsize > 4 and dtype == np.int32:  # clipped and narrowed in one pass
            column = np.minimum(values, INT32_MAX, out=np.empty(values.shape, dtype), casting="unsafe")
        else:
            column = np.ascontiguousarray(values, dtype=dtype)
        staged[member >= wide].append(readonly(column))  # one array type: one compiled kernel
    return [tuple(staged[0]), tuple(staged[1])]


def _codes_matrix(rows: dict[int, np.ndarray], members: list[Any], n: int) -> np.ndarray:
    """The int8 code members as one (members, n) matrix, a row per member: the loans' codes are
    int8 already, so this is one narrow copy instead of a widening one per member, and one
    array type for the kernel instead of another tuple type to compile."""
    matrix = np.empty((len(members), n), dtype=np.int8)
    for row, member in enumerate(members):
        matrix[row] = rows[member]  # a whole call's value (0-d) broadcasts
    return readonly(matrix)


def _terms(loans: Any) -> list[Any]:
    """The `Term` columns (int64 amounts, int32 terms) one per parameter, then the codes' int8 matrix."""
    s = loans.servicing
    rows = {
        Term.PRINCIPAL: loans.principal, Term.ANNUAL_NUM: loans.annual_num, Term.TERM: loans.term,
        Term.TERM_UNIT: loans.term_unit, Term.DISBURSED_ON: loans.disbursed_on,
        Term.FIRST_DUE_ON: loans.first_due_on, Term.METHOD: loans.method, Term.DAY_COUNT: loans.day_count,
        Term.BASIS: loans.interest_basis, Term.MULTIPLE: loans.installment_multiple,
        Term.ROUNDING: loans.rounding, Term.FEE_NUM: loans.installment_fee_num,
        Term.FREE_DAYS: loans.interest_free_days, Term.PENALTY_NUM: s["penalty_num"],
        Term.GRACE_DAYS: s["grace_days"], Term.COMPOUND_AFTER: s["compound_after"],
        Term.LATE_FEE_NUM: s["late_fee_num"], Term.LATE_FEE_AFTER: s["late_fee_after"],
        Term.NON_ACCRUAL_AFTER: s["non_accrual_after"], Term.WRITE_OFF_AFTER: s["write_off_after"],
        Term.ALLOCATION: s["allocation"], Term.PREPAY: s["prepay"], Term.PREPAY_FEE_NUM: s["prepay_fee_num"],
        Term.KEEPS_FEES: s["keeps_fees"],
    }  # fmt: skip
    wide = [member for member in Term if member < CODE_TERMS]
    codes = [member for member in Term if member >= CODE_TERMS]
    return [*_split(rows, wide, WIDE_TERMS), _codes_matrix(rows, codes, loans.principal.shape[0])]


def _state(state: dict[str, np.ndarray], extension: dict[str, np.ndarray]) -> list[tuple[np.ndarray, ...]]:
    """The `State` columns (int64 balances, int32 state) as read from the book; a fresh loans
    table's are zeros (and no prepayment date), one value for every loan."""
    names = {**state, **{k.replace("_on_", "_"): v for k, v in extension.items()}}
    rows = {member: names.get(member.name.lower(), np.array(0)) for member in State}
    if "prepaid_on" not in state:
        rows[State.PREPAID_ON] = np.array(NO_DATE)
    return _split(rows, State, WIDE_STATE)


def _records(book: pl.DataFrame, fresh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The book's unpaid installments as an int64 (fields, records) matrix, with per-loan offsets.

    Field-major, as the column holds them: each field fills its row contiguously, and the kernel
    reads a loan's few records once, into its scratch (a records-major copy cost a transpose).

    The records are state the engine wrote; one that is not (a null, a field missing, a negative
    or oversized amount: an edited book) raises `ValidationError` naming its loans, whatever
    `errors` says, rather than being misread.
    """
    n = book.height
    if "unpaid" not in book.columns or book["unpaid"].dtype == pl.Null or fresh.all():
        return np.zeros((ledger.RECORD_FIELDS, 0), dtype=np.int64), np.zeros(n + 1, dtype=np.int64)
    unpaid = book["unpaid"]
    in_place = _records_in_place(book, unpaid, fresh) if unpaid.dtype == UNPAID else None
    if in_place is not None:
        return in_place
    lengths = unpaid.list.len().fill_null(0).to_numpy().astype(np.int64)
    if (fresh & (lengths > 0)).any():  # a fresh loan's records are not its state: leave them out
        unpaid = unpaid.filter(pl.Series(~fresh))
        lengths[fresh] = 0
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Arrow's flatten reads the list's values in place (polars' explode copies them: 5 ms at 1M),
    # chunk by chunk (the Series' own `to_arrow` copies a many-chunk column into one: 9 ms)
    values = pl.from_arrow(pc.list_flatten(unpaid.to_frame().to_arrow().column(0)))
    assert isinstance(values, pl.Series)
    fields = {f.name for f in values.dtype.fields} if isinstance(values.dtype, pl.Struct) else set()
    if not fields >= set(ledger.RECORD_NAMES):
        raise ValidationError(
            f"book column 'unpaid' must list records with fields {', '.join(ledger.RECORD_NAMES)}"
        )
    flat = values.struct.unnest()  # a null record has null fields: found below
    matrix = np.empty((ledger.RECORD_FIELDS, flat.height), dtype=np.int64)
    bad = np.zeros(flat.height, dtype=np.bool_)  # records that are not the engine's state
    for f, name in enumerate(ledger.RECORD_NAMES):
        column = flat[name]
        if name in RECORD_MONEY:
            bad |= to_fen(column, out=matrix[f], minimum=0)[1]  # negative or beyond MAX_FEN
        else:  # a date's day number, or a count (a value that is not a whole number: null)
            column = column.to_physical() if column.dtype == pl.Date else column.cast(pl.Int64, strict=False)
            matrix[f] = column.fill_null(0).to_numpy()
        if column.null_count():
            bad |= column.is_null().to_numpy()
    if bad.any():
        holding = np.unique(np.repeat(np.arange(n), lengths)[bad])  # the loans these records are in
        loans = book["loan_id"].gather(holding)
        raise ValidationError(
            "book column 'unpaid': records must have every field, and amounts from 0 "
            f"to 10^14 yuan: loan_id {_show(loans)}"
        )
    return matrix, offsets


# The `unpaid` column as `accrue` writes it, which `_records_in_place` reads where it lies.
UNPAID = pl.List(
    pl.Struct(
        {
            name: pl.Date if name == "due_on" else pl.Int32 if name == "extension_days"
            else pl.Decimal(18, 2) if name in RECORD_MONEY else pl.Boolean if name == "late_fee_charged"
            else pl.Int64
            for name in ledger.RECORD_NAMES
        }
    )
)  # fmt: skip


def _records_in_place(
    book: pl.DataFrame, unpaid: pl.Series, fresh: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """`_records` for an `unpaid` column of the engine's own type, each field copied from its
    Arrow buffers by `unpaid_field` (flattening, unnesting and casting it in polars took ≈ 11 ms
    at 1M loans, against 6 ms); None where some records are left out (a fresh loan holding
    records, a null list over some), for the polars path."""
    n = book.height
    column = unpaid.to_frame().to_arrow().column(0)
    lengths = np.zeros(n, dtype=np.int64)
    first = 0
    for chunk in column.chunks:
        list_offsets = chunk.offsets.to_numpy()
        unpaid_lengths(first, list_offsets, validity(chunk), chunk.offset, fresh, lengths)
        if lengths[first : first + len(chunk)].sum() != list_offsets[-1] - list_offsets[0]:
            return None
        first += len(chunk)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    matrix = np.empty((ledger.RECORD_FIELDS, int(offsets[-1])), dtype=np.int64)
    bad = np.zeros(n, dtype=np.bool_)
    first = 0
    for chunk in column.chunks:  # its records are rows offsets[first]: of the matrix, in order
        list_offsets = chunk.offsets.to_numpy()
        base, count, row = int(list_offsets[0]), int(list_offsets[-1] - list_offsets[0]), int(offsets[first])
        records = chunk.values  # the struct array the list's offsets count into
        wrong = np.zeros(count, dtype=np.bool_)
        for f, name in enumerate(ledger.RECORD_NAMES):
            field = records.field(f)  # (its offset counts the struct's too)
            kind = AMOUNT if name in RECORD_MONEY else FLAG if name == "late_fee_charged" else VALUE
            dtype = {AMOUNT: np.int64, FLAG: np.uint8}.get(
                kind, np.int32 if f < ledger.OWED_PRINCIPAL else np.int64
            )
            values = np.frombuffer(field.buffers()[1], dtype=dtype)
            unpaid_field(kind, values, validity(field), field.offset + base, count, matrix[f, row:], wrong)
        # a null record: only its own validity is read
        unpaid_field(
            PRESENT, _NO_VALUES, validity(records), records.offset + base, count, matrix[0, row:], wrong
        )
        if wrong.any():  # the loans holding these records
            held = np.repeat(np.arange(first, first + len(chunk)), lengths[first : first + len(chunk)])
            bad[np.unique(held[wrong])] = True
        first += len(chunk)
    if bad.any():
        raise ValidationError(
            "book column 'unpaid': records must have every field, and amounts from 0 "
            f"to 10^14 yuan: loan_id {_show(book['loan_id'].filter(pl.Series(bad)))}"
        )
    return matrix, offsets


_NO_VALUES = readonly(np.zeros(0, dtype=np.uint8))


class _Outputs(NamedTuple):
    """The kernel's output buffers: fixed per-loan state, and regions of records and postings."""

    dates: np.ndarray
    counts: np.ndarray
    weights: np.ndarray
    money: np.ndarray
    record_counts: np.ndarray
    records: np.ndarray  # a row per record field but the money: (fields, rows)
    record_money: np.ndarray  # the money fields as Decimal128 words: (N_RECORD_MONEY, rows, 2)
    post: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _regions(per_chunk: np.ndarray) -> np.ndarray:
    """Row ranges of chunks needing `per_chunk` rows each: region c is regions[c]:regions[c + 1]."""
    regions = np.zeros(per_chunk.shape[0] + 1, dtype=np.int64)
    np.cumsum(per_chunk, out=regions[1:])
    return regions


def _run(
    book: pl.DataFrame,
    staged: list[tuple[np.ndarray, ...]],
    extension: dict[str, np.ndarray],
    pay: Payments,
    as_of: int,
    postings: str,
    launch: Callable[..., Future[Any]],
) -> Iterator[Accrual | None]:
    """The kernel launched over the staged columns (yields None), then the new book and postings."""
    amounts, terms, codes, balances, held = staged
    n = book.height

    def column(values: np.ndarray) -> np.ndarray:  # a staged column, for every loan
        return np.broadcast_to(values, n)

    fresh = column(held[State.FRESH - WIDE_STATE]) == 1
    records_in, record_offsets = _records(book, fresh)
    chunks = chunk_bounds(n)
    # Generous estimates of each chunk's output rows: untouched memory costs nothing, and a
    # chunk that needs more is simply run again.
    estimates = np.empty((chunks.shape[0] - 1, 3), dtype=np.int64)
    day0 = region_estimates(
        chunks, as_of, held[State.FRESH - WIDE_STATE], terms[Term.DISBURSED_ON - WIDE_TERMS],
        held[State.ACCRUED_THROUGH - WIDE_STATE], terms[Term.TERM - WIDE_TERMS],
        held[State.INSTALLMENTS_LEFT - WIDE_STATE], record_offsets, pay.offsets, estimates,
    )  # fmt: skip
    detail = postings == "detail"
    record_regions = _regions(estimates[:, 0])
    post_regions = _regions(estimates[:, 1])
    out = _outputs(n, int(record_regions[-1]), int(post_regions[-1]) if detail else 0)
    summary = np.zeros((chunks.shape[0] - 1, as_of - day0 + 1 if not detail else 0, ledger.N_KINDS), np.int64)
    inputs = (
        amounts,
        terms,
        codes,
        balances,
        held,
        records_in,
        record_offsets,
        pay.offsets,
        pay.paid_on,
        pay.amount,
        pay.prepay,
        _posted_ids(book["loan_id"]),
    )

    running = launch(
        _serve, chunks, as_of, day0, estimates[:, 2], inputs, out, record_regions,
        post_regions if detail else None, summary,
    )  # fmt: skip
    yield None
    needed, pieces = running.result()
    staged.clear()
    del amounts, terms, codes, balances, held, inputs, records_in  # only the outputs are built from
    if n > SLICE_LOANS:
        release_memory()
    new_book = _book(book, out, chunks, needed, pieces, extension)
    ledger_rows = (
        _postings(book["loan_id"], needed[:, 1], pieces) if detail else _summary(summary.sum(axis=0), day0)
    )
    yield Accrual(new_book, ledger_rows)


def _serve(
    chunks: np.ndarray, as_of: int, day0: int, capacity: np.ndarray, inputs: tuple[Any, ...], out: _Outputs,
    record_regions: np.ndarray, post_regions: np.ndarray | None, summary: np.ndarray,
) -> tuple[np.ndarray, list[tuple[_Outputs, int, int]]]:  # fmt: skip
    """Run the kernel over every chunk, on all cores (chunk c's scratch holds `capacity[c]`
    records); a chunk whose records or postings (`post_regions` None: summary only) overflow its
    region runs again into buffers of its own.

    Returns the (records, postings) each chunk used, and per chunk the outputs holding it with
    its first record and posting rows.
    """
    n = out.record_counts.shape[0]

    def service(c: int, into: _Outputs, records: Any, postings: Any, totals: np.ndarray) -> tuple[int, int]:
        return service_chunk(
            chunks[c], chunks[c + 1], as_of, day0, capacity[c], *inputs, into.dates, into.counts, into.weights, into.money, out.record_counts,
            into.records, into.record_money, *records, *into.post, *postings, totals,
        )  # fmt: skip

    def first_run(c: int) -> tuple[int, int]:
        postings = (0, 0) if post_regions is None else post_regions[c : c + 2]
        return service(c, out, record_regions[c : c + 2], postings, summary[c])

    needed = np.array(in_parallel(first_run, chunks.shape[0] - 1), dtype=np.int64).reshape(-1, 2)
    pieces = []
    for c in range(chunks.shape[0] - 1):
        fits = needed[c, 0] <= record_regions[c + 1] - record_regions[c]
        fits &= post_regions is None or needed[c, 1] <= post_regions[c + 1] - post_regions[c]
        if fits:
            pieces.append((out, int(record_regions[c]), 0 if post_regions is None else int(post_regions[c])))
            continue
        # Run the chunk again with exactly the room it needs (its state and summary are the same).
        postings = 0 if post_regions is None else int(needed[c, 1])
        again = _outputs(n, int(needed[c, 0]), postings)
        service(c, again, (0, needed[c, 0]), (0, postings), np.zeros(summary.shape[1:], np.int64))
        pieces.append((again, 0, 0))
    return needed, pieces


def _outputs(n: int, records: int, postings: int) -> _Outputs:
    """Buffers for the kernel: per-loan state (written in full) and regions sized by estimates."""
    return _Outputs(
        np.empty((len(DATE_OUT), n), np.int32),
        np.empty((len(COUNT_OUT), n), np.int32),
        np.empty((len(WEIGHT_OUT), n), np.int64),
        np.empty((len(MONEY_OUT), n, 2), np.int64),
        np.empty(n, np.int64),
        sparse_empty((ledger.RECORD_FIELDS - ledger.N_RECORD_MONEY, records), np.int64),  # a row per field
        sparse_empty((ledger.N_RECORD_MONEY, records, 2), np.int64),
        (sparse_empty((postings,), np.int64), sparse_empty((postings,), np.int32),
         sparse_empty((postings,), np.int8), sparse_empty((postings, 2), np.int64)),
    )  # fmt: skip


def _date_array(days: np.ndarray) -> pa.Array:
    """date32 over the days (zero-copy), null where NO_DATE: the validity bitmap is packed from
    the mask directly (a masked `pa.array` and a cast copied the days twice: 1.0 against 0.15 ms
    a 1M column)."""
    days = np.ascontiguousarray(days, dtype=np.int32)
    missing = days == NO_DATE
    nulls = int(np.count_nonzero(missing))
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(pa.date32(), days.shape[0], [validity, pa.py_buffer(days)], null_count=nulls)


def _book(
    book: pl.DataFrame,
    out: _Outputs,
    chunks: np.ndarray,
    needed: np.ndarray,
    pieces: list[tuple[_Outputs, int, int]],
    extension: dict[str, np.ndarray],
) -> pl.DataFrame:
    unpaid = []
    for c, (piece, first, _) in enumerate(pieces):
        lo, hi = chunks[c], chunks[c + 1]
        used = int(needed[c, 0])
        if piece is not out:  # a chunk run again: its state went to its own buffers
            out.dates[:, lo:hi] = piece.dates[:, lo:hi]
            out.counts[:, lo:hi] = piece.counts[:, lo:hi]
            out.weights[:, lo:hi] = piece.weights[:, lo:hi]
            out.money[:, lo:hi] = piece.money[:, lo:hi]
        offsets = np.zeros(hi - lo + 1, dtype=np.int64)
        np.cumsum(out.record_counts[lo:hi], out=offsets[1:])
        rows = slice(first, first + used)
        unpaid.append(_unpaid(piece.records[:, rows], piece.record_money[:, rows], offsets))
    columns: dict[str, Any] = {
        "accrued_through": _date_array(out.dates[0]),
        "status": enum_series(out.counts[0], ledger.STATUSES),
        "dpd": pa.array(out.counts[1]),
        "bucket": enum_series(out.counts[2], ledger.BUCKETS),
        **{name: money_array(out.money[j]) for j, name in enumerate(MONEY_OUT)},
        "next_due_on": _date_array(out.dates[1]),
        "installments_left": pa.array(out.counts[3]),
        "period_start": _date_array(out.dates[2]),
        "accruing_since": _date_array(out.dates[3]),
        "prepaid_on": _date_array(out.dates[4]),
        "period_weight": pa.array(out.weights[0]),
        "settled_balance_days": pa.array(out.weights[1]),
        "extension_due_on_1": _date_array(extension["extension_due_on_1"]),
        "extension_days_1": pa.array(extension["extension_days_1"]),
        "extension_due_on_2": _date_array(extension["extension_due_on_2"]),
        "extension_days_2": pa.array(extension["extension_days_2"]),
        # one chunk per kernel chunk: gluing the nested `unpaid` chunks together would copy them all
        "unpaid": pl.from_arrow(pa.chunked_array(unpaid, type=unpaid[0].type), rechunk=False),
    }
    assert list(columns) == [*BOOK_STATE]
    state = pl.DataFrame([pl.Series(name, value) for name, value in columns.items()])
    base = book.drop([c for c in BOOK_STATE if c in book.columns])
    return pl.concat([base, state], how="horizontal")


def _unpaid(records: np.ndarray, money: np.ndarray, offsets: np.ndarray) -> pa.Array:
    """A list<struct> Arrow array of unpaid-installment records, from views of the kernel's
    buffers: the money fields' Decimal128 words, and a row per other field (each contiguous, so
    the int64 fields are taken as they are)."""
    fields = []
    for f, name in enumerate(ledger.RECORD_NAMES):
        if name in RECORD_MONEY:
            fields.append(money_array(money[f - ledger.OWED_PRINCIPAL]))
            continue
        values = records[f if f < ledger.OWED_PRINCIPAL else f - ledger.N_RECORD_MONEY]
        if name == "due_on":
            fields.append(_date_array(values))
        elif name == "late_fee_charged":
            fields.append(pa.array(values != 0))
        elif name == "extension_days":
            fields.append(pa.array(values.astype(np.int32)))
        else:
            fields.append(pa.array(values))
    struct = pa.StructArray.from_arrays(fields, names=list(ledger.RECORD_NAMES))
    return pa.LargeListArray.from_arrays(pa.array(offsets), struct)


def _posted_ids(loan_id: pl.Series) -> np.ndarray:
    """What the kernel writes as a posting's loan: the id itself when it is an integer that
    fits int64 (no gather after), else the loan's row."""
    if _integer_ids(loan_id):
        return np.ascontiguousarray(loan_id.cast(pl.Int64).to_numpy())
    return np.arange(loan_id.len(), dtype=np.int64)


def _integer_ids(loan_id: pl.Series) -> bool:
    return loan_id.dtype.is_integer() and loan_id.dtype != pl.UInt64


def _postings(loan_id: pl.Series, used: np.ndarray, pieces: list[tuple[_Outputs, int, int]]) -> pl.DataFrame:
    """The detail postings, one Arrow chunk per kernel chunk (zero-copy slices of its region)."""
    parts = []
    for (piece, _, first), count in zip(pieces, used, strict=True):
        rows = slice(first, first + int(count))
        loan, posted_on, kind, amount = (a[rows] for a in piece.post)
        parts.append(
            pl.DataFrame(
                [
                    pl.Series("loan_id", loan).cast(loan_id.dtype) if _integer_ids(loan_id)
                    else loan_id.gather(loan).alias("loan_id"),
                    pl.Series("posted_on", _date_array(posted_on)),
                    enum_series(kind, ledger.KINDS).alias("kind"),
                    pl.Series("amount", money_array(np.ascontiguousarray(amount))),
                ]
            )
        )  # fmt: skip
    return pl.concat(parts, rechunk=False)


def _summary(totals: np.ndarray, day0: int) -> pl.DataFrame:
    day, kind = np.nonzero(totals)
    return pl.DataFrame(
        [
            pl.Series("posted_on", _date_array((day + day0).astype(np.int32))),
            enum_series(kind, ledger.KINDS).alias("kind"),
            pl.Series("amount", fen_to_money(totals[day, kind])),
        ]
    )
