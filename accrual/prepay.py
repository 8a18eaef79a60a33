"""Smart repayment (智能还款): sweep idle wallet money into partial prepayments.

`smart_prepay` recommends, for each loan with a wallet, the prepayment on `as_of` that the
wallet affords above a `buffer`: worth more in interest saved than its fee, at least
`min_amount`, never more than the principal outstanding. The saving is exact: it is the
difference between two remaining schedules computed by the shared period step, so paying the
recommended `payment` through `accrue` realises it to the fen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, overload

import numpy as np
import polars as pl

from accrual.conventions import Prepay, Status, enum_series
from accrual.kernels.dates import NO_DATE
from accrual.kernels.prepay import fill_smart_prepay
from accrual.money import MONEY_DTYPE, fen_to_money, to_fen
from accrual.schema import (
    Checks,
    ValidationError,
    _nulls,
    as_polars,
    book_state,
    date_of,
    day_number,
    every_loan,
    payday_due_dates,
    positions,
    prepare_loans,
    servicing_terms,
)
from accrual.threads import over_chunks

RECOMMENDATION_COLUMNS = ("loan_id", "amount", "strategy", "interest_saved", "fee", "net_saving", "payment")
DUE_COLUMNS = ("principal_due", "interest_due", "fee_due", "penalty_due")


@overload
def smart_prepay(
    book: Any, wallets: Any, as_of: dt.date | str, buffer: float = ..., min_amount: float = ..., *,
    cover: int = ..., errors: Literal["raise"] = ..., **defaults: Any,
) -> pl.DataFrame: ...  # fmt: skip
@overload
def smart_prepay(
    book: Any, wallets: Any, as_of: dt.date | str, buffer: float = ..., min_amount: float = ..., *,
    cover: int = ..., errors: Literal["reject"], **defaults: Any,
) -> tuple[pl.DataFrame, pl.DataFrame]: ...  # fmt: skip


def smart_prepay(
    book: Any,
    wallets: Any,
    as_of: dt.date | str,
    buffer: float = 0,
    min_amount: float = 0,
    *,
    cover: int = 1,
    errors: str = "raise",
    **defaults: Any,
) -> Any:
    """Partial prepayments to make on `as_of` from idle wallet balances.

    `book` is a book accrued through a day before `as_of`, or a loans table (whose installments due
    before `as_of` count as paid on schedule); `wallets` has
    `loan_id, balance`. For each active loan with nothing due, a wallet, and its next
    installment after `as_of`, the payment settles the interest accrued to the day and prepays
    the most principal (`amount`) the wallet affords while keeping `buffer`, with the loan's
    `prepay_fee_rate` fee on top. It is recommended only if `amount >= min_amount` and
    `net_saving = interest_saved − fee > 0`. The strategy is `reduce_term` (saves the most)
    unless what the wallet keeps cannot cover the next `cover` installments, then
    `reduce_installment` (lighter installments).

    Returns `loan_id, amount, strategy, interest_saved, fee, net_saving, payment`: pay `payment`
    on `as_of` with `prepay=strategy` through `accrue` and the remaining schedules save exactly
    `interest_saved`. Loans without a recommendation are not listed.

    >>> import datetime as dt, polars as pl, accrual as ac
    >>> loans = pl.DataFrame({"loan_id": [1], "principal": [12000], "annual_rate": [0.18], "term": [12],
    ...                       "disbursed_on": [dt.date(2024, 1, 10)]})
    >>> book = ac.accrue(loans, dt.date(2024, 1, 19)).book
    >>> wallets = pl.DataFrame({"loan_id": [1], "balance": [5000]})
    >>> tomorrow = dt.date(2024, 1, 20)  # 60.00 of interest settles first, the rest prepays
    >>> ac.smart_prepay(book, wallets, tomorrow, buffer=2000).select("amount", "strategy", "interest_saved").row(0)
    (Decimal('2940.00'), 'reduce_term', Decimal('518.84'))
    """
    day = day_number(as_of, "as_of")
    if cover < 0:
        raise ValueError(f"cover must be >= 0, not {cover!r}")
    buffer_fen, min_fen = (
        _amount(value, name) for value, name in ((buffer, "buffer"), (min_amount, "min_amount"))
    )

    def servicing(
        frame: pl.DataFrame, fills: dict[str, Any], loan: dict[str, np.ndarray], checks: Checks
    ) -> dict[str, np.ndarray]:
        terms = servicing_terms(frame, fills, loan, checks)
        state = book_state(frame, loan, checks)
        checks.add(loan["disbursed_on"] > day, "disbursed_on", f"after as_of {date_of(day)}")
        if "accrued_through" in state:
            checks.add(~state["fresh"] & (state["accrued_through"] >= day), "accrued_through",
                       f"already accrued through as_of {date_of(day)}: a prepayment must be dated after it")  # fmt: skip
        owing = np.zeros(frame.height, dtype=np.int64)
        for name in DUE_COLUMNS:
            if name in frame.columns:
                owing += np.where(state["fresh"], 0, to_fen(frame[name])[0])
        return {
            "prepay_fee_num": every_loan(terms["prepay_fee_num"], frame.height),
            "keeps_fees": every_loan(terms["keeps_fees"], frame.height),
            "owing": owing,
            **state,
        }

    frame = as_polars(book, "book")
    loans = prepare_loans(frame, defaults, errors, servicing=servicing)
    wallet, wallet_rejects = _wallets(wallets, loans.loan_id, errors)
    s = loans.servicing
    n = len(loans)

    def get(name: str, dtype: Any, fill: int = 0) -> np.ndarray:
        return np.ascontiguousarray(s.get(name, np.full(n, fill)), dtype=dtype)

    fresh = s["fresh"]
    eligible = fresh | ((get("status", np.int64) == Status.ACTIVE) & (s["owing"] == 0))
    out = {name: np.empty(n, dtype=np.int64) for name in ("amount", "strategy", "saved", "fee", "payment")}
    over_chunks(
        fill_smart_prepay, n, loans.principal, loans.annual_num, loans.term, loans.term_unit, loans.disbursed_on,
        loans.first_due_on, loans.method, loans.day_count, loans.interest_basis, loans.installment_multiple, loans.rounding,
        loans.installment_fee_num, loans.interest_free_days, s["prepay_fee_num"], s["keeps_fees"],
        fresh, get("principal_outstanding", np.int64), get("installment", np.int64),
        get("next_due_on", np.int32, NO_DATE), get("installments_left", np.int64), get("period_start", np.int32),
        get("accruing_since", np.int32), get("period_weight", np.int64), get("prepaid_on", np.int32, NO_DATE),
        get("settled_balance_days", np.int64), get("interest_settled", np.int64), eligible, wallet, day, buffer_fen, min_fen, cover, *out.values(),
    )  # fmt: skip
    chosen = np.flatnonzero(out["amount"] > 0)
    names = tuple(p.canonical for p in Prepay)
    table = pl.DataFrame(
        {
            "loan_id": loans.loan_id.gather(chosen),
            "amount": _money(out["amount"][chosen]),
            "strategy": enum_series(out["strategy"][chosen], names),
            "interest_saved": _money(out["saved"][chosen]),
            "fee": _money(out["fee"][chosen]),
            "net_saving": _money(out["saved"][chosen] - out["fee"][chosen]),
            "payment": _money(out["payment"][chosen]),
        }
    )
    if errors == "reject":
        rejects = (
            pl.concat([loans.rejects, wallet_rejects], how="vertical_relaxed")
            if wallet_rejects.height
            else loans.rejects
        )
        return table, rejects
    return table


def _wallets(wallets: Any, loan_ids: pl.Series, errors: str) -> tuple[np.ndarray, pl.DataFrame]:
    """Each loan's wallet balance in fen (-1: none), and the wallet rows rejected."""
    frame = as_polars(wallets, "wallets")
    missing = [c for c in ("loan_id", "balance") if c not in frame.columns]
    if missing:
        raise ValidationError(f"wallets column(s) {', '.join(missing)} missing")
    checks = Checks(frame, what="wallets")
    checks.add(_nulls(frame["loan_id"]), "loan_id", "required value is missing")
    checks.add((frame["loan_id"].is_duplicated() & frame["loan_id"].is_not_null()).to_numpy(), "loan_id",
               "duplicate loan_id: one wallet per loan")  # fmt: skip
    found = positions(frame["loan_id"], loan_ids)
    checks.add(
        found.is_null().to_numpy() & ~_nulls(frame["loan_id"]),
        "loan_id",
        "unknown loan (or the loan is rejected)",
    )
    try:
        balance, bad = to_fen(frame["balance"], minimum=0)
    except TypeError as exc:
        raise ValidationError(str(exc)) from None
    checks.add(_nulls(frame["balance"]), "balance", "required value is missing")
    checks.add(bad, "balance", "must be an amount >= 0")
    rejected = checks.rejected()
    if rejected.any() and errors == "raise":
        raise ValidationError(checks.message(), checks.table())
    wallet = np.full(loan_ids.len(), -1, dtype=np.int64)
    keep = ~rejected
    wallet[found.filter(pl.Series(keep)).cast(pl.Int64).to_numpy()] = balance[keep]
    return wallet, checks.table()


def _amount(value: Any, name: str) -> int:
    fen, overflow = to_fen(pl.Series(name, [value]))
    if overflow[0] or fen[0] < 0:
        raise ValueError(f"{name} must be an amount >= 0, not {value!r}")
    return int(fen[0])


def _money(fen: np.ndarray) -> pl.Series:
    return pl.Series(fen_to_money(np.ascontiguousarray(fen, dtype=np.int64)), dtype=MONEY_DTYPE)


def align_to_payday(loans: Any, payday: Any, *, lag: int = 1, min_days: int = 15) -> pl.DataFrame:
    """Re-date monthly loans so every installment falls due `lag` days after payday.

    `payday` (day of month, 1–31; a column name or one value for all) plus `lag` gives the due
    day, clipped to each month's end (a payday on the 31st follows the month's last day). The
    first due date is the first such day (unclipped, so that later ones keep it) at least
    `min_days` after disbursement; its period is irregular and accrues by the day, like any
    `first_due_on`. Day-term loans are returned as they are. Returns `loans` with `first_due_on`
    set (before disbursement: re-dating a loan already serviced is not supported). The `payday`
    loan parameter does the same inside every verb (lag 1, 15 days).

    >>> import datetime as dt, polars as pl, accrual as ac
    >>> loans = pl.DataFrame({"loan_id": [1, 2], "disbursed_on": [dt.date(2024, 1, 25), dt.date(2024, 1, 3)]})
    >>> ac.align_to_payday(loans, 10)["first_due_on"].to_list()  # salary on the 10th, debit on the 11th
    [datetime.date(2024, 2, 11), datetime.date(2024, 2, 11)]
    """
    frame = as_polars(loans)
    if "disbursed_on" not in frame.columns:
        raise ValidationError("column 'disbursed_on' is missing")
    if not 0 <= lag <= 27 or min_days < 1:
        raise ValueError("lag must be in [0, 27] and min_days >= 1")
    days = (frame[payday] if isinstance(payday, str) else pl.Series([payday] * frame.height)).cast(pl.Int64)
    bad = days.is_null() | (days < 1) | (days > 31)
    if bad.any():
        shown = frame["loan_id"].filter(bad).head(10).to_list() if "loan_id" in frame.columns else []
        raise ValidationError(f"column 'payday': must be a day of month in [1, 31] — loan_id(s) {shown}")
    disbursed = frame["disbursed_on"].cast(pl.Date).to_physical().cast(pl.Int64).to_numpy()
    chosen = payday_due_dates(disbursed, days.to_numpy(), lag, min_days)
    by_month = frame["term_unit"].cast(pl.String) != "day" if "term_unit" in frame.columns else True
    aligned = pl.Series("first_due_on", chosen).cast(pl.Int32).cast(pl.Date)
    return frame.with_columns(first_due_on=pl.when(by_month).then(aligned).otherwise(None))
