"""The `accrual` command: the engine's verbs over Parquet files.

accrual generate -n 1000000 --seed 1 -o loans.parquet
accrual schedule loans.parquet -o schedule.parquet [--rejects rejects.parquet] [--method ...]
accrual eod book.parquet --as-of 2026-07-01 [--payments p.parquet] --out book2.parquet --postings postings.parquet
accrual apr loans.parquet -o cost.parquet [--cap 0.24 | --lpr 0.03] [--rejects rejects.parquet]
accrual stress book.parquet --months 36 --paths 1000 [--scenarios s.csv] [--plot fan.png] [-o monthly.parquet]
accrual demo
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from tqdm import tqdm

import accrual
from accrual.apr import DEFAULT_CAP
from accrual.eod import summed
from accrual.io import DEFAULT_BATCH_ROWS, ParquetSink, count_rows, iter_batches, write_parquet

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_loans.parquet"
KEYWORDS = ("method", "term_unit", "day_count", "interest_basis", "rounding")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="accrual", description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)

    gen = verbs.add_parser("generate", help="write a synthetic loans table (SPEC.md section 2)")
    gen.add_argument("-n", "--loans", type=int, default=10_000, help="number of loans")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("-o", "--out", required=True, help="Parquet file to write")

    sch = verbs.add_parser("schedule", help="repayment schedules of a loans table")
    sch.add_argument("loans", help="loans Parquet file")
    sch.add_argument("-o", "--out", required=True, help="schedule Parquet file to write")
    sch.add_argument("--rejects", help="write invalid loans here instead of failing")
    sch.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, help="loans per batch")
    for name in KEYWORDS:
        sch.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"default {name} for the loans")

    cost = verbs.add_parser(
        "apr", help="the true cost of each loan: three nominal rates and the IRR-annualised rate"
    )
    cost.add_argument("loans", help="loans Parquet file")
    cost.add_argument("-o", "--out", required=True, help="Parquet file to write")
    cost.add_argument(
        "--cap", type=float, default=DEFAULT_CAP, help="flag loans above this annual rate (default 0.24)"
    )
    cost.add_argument("--lpr", type=float, help="one-year LPR: the cap becomes 4 × LPR (private lending)")
    cost.add_argument("--rejects", help="write invalid loans here instead of failing")
    cost.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, help="loans per batch")
    for name in KEYWORDS:
        cost.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"default {name} for the loans")

    st = verbs.add_parser("stress", help="project a book under stress scenarios (roll-rate model)")
    st.add_argument("book", help="book (or fresh loans) Parquet file")
    st.add_argument("--months", type=int, default=36)
    st.add_argument("--paths", type=int, default=1000)
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--method", choices=["monte_carlo", "expected"], default="monte_carlo")
    st.add_argument("--start", type=dt.date.fromisoformat, help="first day projected (YYYY-MM-DD)")
    st.add_argument("--scenarios", help="scenarios CSV or Parquet (default: baseline, industry, severe)")
    st.add_argument("-o", "--out", help="write the monthly table here (Parquet)")
    st.add_argument("--losses", help="write the losses table here (Parquet)")
    st.add_argument("--plot", help="fan chart (PNG) of NPL ratio and cumulative losses (needs matplotlib)")

    eod = verbs.add_parser("eod", help="the end-of-day batch: service a book through a date")
    eod.add_argument("book", help="book (or fresh loans) Parquet file")
    eod.add_argument(
        "--as-of", required=True, type=dt.date.fromisoformat, help="last day to service (YYYY-MM-DD)"
    )
    eod.add_argument("--payments", help="payments Parquet file (payment_id, loan_id, paid_on, amount)")
    eod.add_argument("--extensions", help="grace extensions Parquet file (loan_id, due_on, days)")
    eod.add_argument("--out", required=True, help="the new book's Parquet file")
    eod.add_argument("--postings", required=True, help="the postings' Parquet file")
    eod.add_argument("--summary", action="store_true", help="post totals per day and kind, not per loan")
    eod.add_argument("--rejects", help="write invalid loans and payments here instead of failing")
    eod.add_argument("--preset", choices=sorted(accrual.presets), help="product policy (e.g. emergency)")
    eod.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, help="loans per batch")

    demo = verbs.add_parser(
        "demo", help="schedules and 90 days of EOD for the bundled sample book, summarised"
    )
    demo.add_argument("--loans", default=str(SAMPLE), help="loans Parquet file (default: the sample)")

    args = parser.parse_args(argv)
    try:
        verb = {"generate": _generate, "schedule": _schedule, "apr": _apr, "eod": _eod, "stress": _stress,
                "demo": _demo}  # fmt: skip
        return verb[args.verb](args)
    except accrual.ValidationError as error:
        print(f"accrual: invalid input\n{error}", file=sys.stderr)
        return 2


def _generate(args: argparse.Namespace) -> int:
    with tqdm(total=args.loans, unit=" loans", unit_scale=True, disable=args.loans < 2_000_000) as bar:
        book = accrual.generate(args.loans, args.seed, progress=bar.update)
    write_parquet(book, args.out)
    print(f"wrote {book.height:,} loans to {args.out}")
    return 0


def _schedule(args: argparse.Namespace) -> int:
    seconds, loans, rows, rejected = _per_loan_batches(args, accrual.schedule, _defaults(args))
    print(f"{loans:,} loans → {rows:,} installments in {seconds:.2f} s; wrote {args.out}")
    _report_rejects(args, rejected)
    return 0


def _apr(args: argparse.Namespace) -> int:
    defaults = {**_defaults(args), "cap": args.cap, "lpr": args.lpr}
    if args.lpr is not None:
        defaults.pop("cap")
    seconds, loans, _, rejected = _per_loan_batches(args, accrual.apr, defaults)
    cost = (
        pl.scan_parquet(args.out)
        .select(pl.col("over_cap").sum(), pl.col("irr_annual").median(), pl.col("annual_rate").median())
        .collect()
    )
    over, irr, nominal = cost.row(0)
    cap = 4 * args.lpr if args.lpr is not None else args.cap
    print(f"{loans:,} loans costed in {seconds:.2f} s; wrote {args.out}")
    if loans:
        print(f"median nominal annual rate {nominal:.2%}, median IRR-annualised {irr:.2%}; "
              f"{over:,} loans over the {cap:.2%} cap")  # fmt: skip
    _report_rejects(args, rejected)
    return 0


def _stress(args: argparse.Namespace) -> int:
    book = pl.read_parquet(args.book)
    scenarios = None
    if args.scenarios:
        scenarios = (
            pl.read_csv(args.scenarios)
            if args.scenarios.endswith(".csv")
            else pl.read_parquet(args.scenarios)
        )
    started = time.perf_counter()
    with tqdm(total=book.height, unit=" loans", unit_scale=True, disable=book.height < 500_000) as bar:
        result = accrual.stress(book, scenarios, months=args.months, paths=args.paths, seed=args.seed,
                                method=args.method, start=args.start, progress=bar.update)  # fmt: skip
    seconds = time.perf_counter() - started
    paths = f"{args.paths:,} paths" if args.method == "monte_carlo" else "exact expectations"
    print(f"{book.height:,} loans × {args.months} months, {paths}, in {seconds:.2f} s")
    _print_stress(result)
    if args.out:
        write_parquet(result.monthly, args.out)
    if args.losses:
        write_parquet(result.losses, args.losses)
    if args.plot:
        fan_chart(result, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _print_stress(result: accrual.Stress) -> None:
    with pl.Config(tbl_hide_dataframe_shape=True, float_precision=2, tbl_width_chars=120):
        print(result.losses)
        final = result.monthly.group_by("scenario", maintain_order=True).agg(
            pl.col("balance").first().alias("balance_step_1"), pl.col("balance").last().alias("balance_last"),
            pl.col("npl_ratio").max().alias("peak_npl"), pl.col("charged_off").sum(), pl.col("recovered").sum(),
            pl.col("net_interest_income").sum(),
        )  # fmt: skip
        print(final)


def fan_chart(result: accrual.Stress, path: str) -> None:
    """NPL ratio and cumulative losses per scenario over the horizon, with the 5–95% band when the
    result is Monte Carlo (the band of cumulative losses approximated by that of charge-offs)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # an optional extra
        raise SystemExit("accrual: --plot needs matplotlib (pip install 'accrual[plot]')") from None
    figure, (npl, loss) = plt.subplots(1, 2, figsize=(11, 4))
    for scenario in result.monthly.partition_by("scenario", maintain_order=True):
        name = scenario["scenario"][0]
        step = scenario["step"].to_numpy()
        line = npl.plot(step, scenario["npl_ratio"].to_numpy() * 100, label=name)[0]
        net = (scenario["charged_off"] - scenario["recovered"]).cum_sum().to_numpy()
        loss.plot(step, net / 1e6, color=line.get_color(), label=name)
        if "charged_off_p05" in scenario.columns:
            recovered = scenario["recovered"].cum_sum().to_numpy()
            low = scenario["charged_off_p05"].cum_sum().to_numpy() - recovered
            high = scenario["charged_off_p95"].cum_sum().to_numpy() - recovered
            loss.fill_between(step, low / 1e6, high / 1e6, color=line.get_color(), alpha=0.2)
    npl.set(title="NPL ratio (M3+ / balance)", xlabel="step (month)", ylabel="%")
    loss.set(title="cumulative losses, charged off − recovered", xlabel="step (month)", ylabel="million yuan")
    npl.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _defaults(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in KEYWORDS if getattr(args, k) is not None}


def _per_loan_batches(
    args: argparse.Namespace, verb: Any, defaults: dict[str, Any]
) -> tuple[float, int, int, int]:
    """Run a loans → table verb over the loans file batch by batch, writing one Parquet output
    (and rejects, when asked). Returns (seconds, loans accepted, rows written, loans rejected)."""
    total = count_rows(args.loans)
    started = time.perf_counter()
    rejected = 0
    reject_sink = ParquetSink(args.rejects) if args.rejects else contextlib.nullcontext()
    with ParquetSink(args.out) as out, reject_sink as rejects:
        with tqdm(total=total, unit=" loans", unit_scale=True, disable=total < 2 * args.batch_rows) as bar:
            for loans in iter_batches(args.loans, args.batch_rows):
                if rejects is not None:
                    table, bad = verb(loans, errors="reject", **defaults)
                    rejects.write(bad)  # even when empty: the file gets its columns
                    rejected += bad["loan_id"].n_unique()
                else:
                    table = verb(loans, **defaults)
                out.write(table)
                bar.update(loans.height)
        if out.rows == 0 and total == 0:  # no batch at all: the empty output still has columns
            out.write(verb(pl.read_parquet(args.loans), **defaults))
    return time.perf_counter() - started, total - rejected, out.rows, rejected


def _report_rejects(args: argparse.Namespace, rejected: int) -> None:
    if args.rejects:
        print(f"{rejected:,} loans rejected; reasons in {args.rejects}")


def _eod(args: argparse.Namespace) -> int:
    """Stream the book in batches; each batch's payments and extensions go with it."""
    defaults = dict(accrual.presets[args.preset]) if args.preset else {}
    payments = _read_optional(args.payments)
    extensions = _read_optional(args.extensions)
    errors = "reject" if args.rejects else "raise"
    pre_rejected = None
    if payments is not None and "payment_id" in payments.columns:
        twice = payments["payment_id"].is_duplicated()
        if errors == "raise":
            _refuse_duplicates(payments)
        elif twice.any():  # refused across the whole file, not only within a batch
            pre_rejected = payments.filter(twice)
            payments = payments.filter(~twice)
    matched = pl.Series([False] * (0 if payments is None else payments.height))
    total = count_rows(args.book)
    started = time.perf_counter()
    summary: list[pl.DataFrame] = []
    reject_sink = ParquetSink(args.rejects) if args.rejects else contextlib.nullcontext()
    with ParquetSink(args.out) as book_out, ParquetSink(args.postings) as posting_out, reject_sink as rejects:
        with tqdm(total=total, unit=" loans", unit_scale=True, disable=total < 2 * args.batch_rows) as bar:
            batches = (
                iter_batches(args.book, args.batch_rows) if total else iter([pl.read_parquet(args.book)])
            )
            for batch in batches:
                ids = batch["loan_id"].implode()
                mine = None if payments is None else payments["loan_id"].is_in(ids)
                if mine is not None:
                    matched = matched | mine
                result = accrual.accrue(
                    batch,
                    args.as_of,
                    None if payments is None or mine is None else payments.filter(mine),
                    None if extensions is None else extensions.filter(pl.col("loan_id").is_in(ids)),
                    errors=errors,
                    postings="summary" if args.summary else "detail",
                    **defaults,
                )
                if rejects is not None:
                    result, bad = result
                    rejects.write(bad)
                book_out.write(result.book)
                if args.summary:
                    summary.append(result.postings)
                else:
                    posting_out.write(result.postings)
                bar.update(batch.height)
        if pre_rejected is not None and rejects is not None:
            rejects.write(_stray_rejects(pre_rejected, "payment_id", "duplicate payment_id"))
        strays = None if payments is None else payments.filter(~matched)
        if strays is not None and strays.height:
            if rejects is None:
                raise accrual.ValidationError(
                    f"{strays.height} payment(s) for loans not in the book: payment_id(s) "
                    + ", ".join(repr(x) for x in strays["payment_id"].head(10).to_list())
                )
            rejects.write(_stray_rejects(strays, "loan_id", "unknown loan (or the loan is rejected)"))
        if args.summary:
            posting_out.write(summed(summary))
    seconds = time.perf_counter() - started
    print(
        f"{total:,} loans serviced through {args.as_of} in {seconds:.2f} s; wrote {args.out} and {args.postings}"
    )
    return 0


def _read_optional(path: str | None) -> pl.DataFrame | None:
    return None if path is None else pl.read_parquet(path)


def _refuse_duplicates(payments: pl.DataFrame) -> None:
    """Duplicate payment ids are refused across the whole file, not only within a batch."""
    if "payment_id" in payments.columns:
        twice = payments.filter(pl.col("payment_id").is_duplicated())["payment_id"].unique()
        if twice.len():
            shown = ", ".join(repr(x) for x in twice.head(10).to_list())
            raise accrual.ValidationError(
                f"column 'payment_id': duplicate payment_id — {twice.len()} id(s): {shown}"
            )


def _stray_rejects(payments: pl.DataFrame, column: str, rule: str) -> pl.DataFrame:
    return payments.select(
        "loan_id",
        "payment_id",
        pl.lit(column).alias("column"),
        pl.lit(rule).alias("rule"),
        pl.col(column).cast(pl.String).alias("value"),
    )


def _demo(args: argparse.Namespace) -> int:
    loans = pl.read_parquet(args.loans)
    accrual.schedule(loans.head(1))  # compile (or load the cache) before timing
    started = time.perf_counter()
    table = accrual.schedule(loans)
    seconds = time.perf_counter() - started
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_rows(40)
    pl.Config.set_tbl_width_chars(120)
    pl.Config.set_fmt_str_lengths(24)
    print(f"accrual {accrual.__version__} — repayment schedules for {loans.height:,} loans ({args.loans})\n")
    by_method = (
        table.join(loans.select("loan_id", "method", "principal"), on="loan_id")
        .group_by("method")
        .agg(
            pl.col("loan_id").n_unique().alias("loans"),
            pl.len().alias("installments"),
            pl.col("principal").sum().alias("principal"),
            pl.col("interest").sum().alias("interest"),
            pl.col("fee").sum().alias("fees"),
        )
        .sort("method")
    )
    print("By repayment method:")
    print(by_method)
    totals = table.select(pl.col("principal", "interest", "fee", "payment").sum()).row(0)
    print(
        f"\nTotals: principal {totals[0]:,}  interest {totals[1]:,}  fees {totals[2]:,}  repaid {totals[3]:,}"
    )
    example = _example_loan(loans)
    print(f"\nOne loan: {_describe(example)}")
    print(table.filter(pl.col("loan_id") == example["loan_id"]).drop("loan_id"))
    print(
        f"\n{table.height:,} installments in {seconds * 1000:.1f} ms "
        f"({loans.height / seconds / 1e6:.2f} M loans/s, {table.height / seconds / 1e6:.1f} M installments/s)"
    )
    book = _demo_eod(loans)
    _demo_cost(loans, book)
    return 0


DEMO_START = dt.date(2026, 6, 30)  # the sample's last disbursement day
DEMO_DAYS = 90


def _demo_eod(loans: pl.DataFrame) -> pl.DataFrame:
    """Catch the sample book up to its last disbursement day, then run 90 nightly EOD batches
    with synthetic borrowers (on time, late, partial, prepaying, defaulting)."""
    end = DEMO_START + dt.timedelta(days=DEMO_DAYS)
    payments = accrual.generate_payments(loans, end, seed=2026)
    policy: dict[str, Any] = {"write_off_after_days": 180}
    started = time.perf_counter()
    book, postings = accrual.accrue(
        loans, DEMO_START, payments.filter(pl.col("paid_on") <= DEMO_START), **policy
    )
    catch_up = time.perf_counter() - started
    ledgers = [postings]
    nightly = []
    by_day = payments.partition_by("paid_on", as_dict=True)
    for k in range(1, DEMO_DAYS + 1):
        day = DEMO_START + dt.timedelta(days=k)
        started = time.perf_counter()
        book, postings = accrual.accrue(book, day, by_day.get((day,)), **policy)
        nightly.append(time.perf_counter() - started)
        ledgers.append(postings)
    ledger = pl.concat(ledgers)
    print(f"\nEnd of day: {loans.height:,} loans caught up to {DEMO_START} in {catch_up * 1000:.0f} ms, "
          f"then {DEMO_DAYS} nightly batches to {end} ({payments.height:,} payments; "
          f"median night {sorted(nightly)[len(nightly) // 2] * 1000:.1f} ms)\n")  # fmt: skip
    balance = pl.col("principal_outstanding") + pl.col("principal_due")
    buckets = (
        book.group_by("status", "bucket")
        .agg(pl.len().alias("loans"), balance.sum().alias("principal"), pl.col("interest_due").sum(),
             pl.col("penalty_due").sum(), pl.col("credit").sum())
        .sort("status", "bucket")
    )  # fmt: skip
    print(f"Book as of {end}, by status and delinquency bucket:")
    print(buckets)
    kinds = ledger.group_by("kind").agg(pl.len().alias("postings"), pl.col("amount").sum()).sort("kind")
    print("\nPostings by kind (disbursement to the last night):")
    print(kinds)
    totals = dict(kinds.select("kind", "amount").iter_rows())
    income = totals.get("interest", 0)
    penalties = sum(totals.get(k, 0) for k in ("penalty", "compound", "late_fee"))
    print(f"\nIncome accrued: interest {income:,}, suspended {totals.get('interest_suspended', 0):,}, "
          f"penalties {penalties:,}; written off {totals.get('write_off', 0):,}")  # fmt: skip
    return book


SMART_SURPLUS_SHARE = 0.1  # the demo borrower sweeps 10% of the installment into prepayment each month


def method_comparison(loans: pl.DataFrame, surplus_share: float = SMART_SURPLUS_SHARE) -> pl.DataFrame:
    """Total contract interest of the monthly loans under each method, and under equal
    installments with a monthly surplus (a share of the installment) swept into prepayment."""
    monthly = loans.filter(pl.col("term_unit").cast(pl.String) == "month")

    def total(frame: pl.DataFrame, **keywords: Any) -> Any:
        return accrual.schedule(frame, **keywords)["interest"].sum()

    rows = {m: total(monthly.with_columns(method=pl.lit(m))) for m in ("equal_installment", "equal_principal",
                                                                         "interest_first")}  # fmt: skip
    annuity = monthly.with_columns(method=pl.lit("equal_installment"))
    first = (
        accrual.schedule(annuity)
        .filter(pl.col("period") == 1)
        .select("loan_id", pl.col("payment").alias("due"))
    )
    swept = annuity.join(first, on="loan_id").with_columns(
        monthly_surplus=(pl.col("due").cast(pl.Float64) * surplus_share).round(2)
    )
    rows[f"smart (+{surplus_share:.0%} of the installment a month)"] = total(
        swept.drop("due"), prepay="smart"
    )
    base = rows["equal_installment"]
    return pl.DataFrame(
        {
            "method": list(rows),
            "interest": pl.Series(list(rows.values()), dtype=pl.Decimal(18, 2)),
            "vs_equal_installment": [f"{float(v / base - 1):+.1%}" for v in rows.values()],
        }
    )


def _demo_cost(loans: pl.DataFrame, book: pl.DataFrame) -> None:
    """The true cost of the sample's loans, methods compared by interest, and smart prepayments
    recommended from synthetic wallet balances on the book the nightly batches left."""
    accrual.apr(loans.head(1))  # compile (or load the cache) before timing
    started = time.perf_counter()
    cost = accrual.apr(loans)
    seconds = time.perf_counter() - started
    nominal, irr = cost.select(pl.col("annual_rate", "irr_annual").median()).row(0)
    over = cost["over_cap"].sum()
    print(f"\nTrue cost (IRR, every fee included) of {loans.height:,} loans in {seconds * 1000:.0f} ms: median "
          f"nominal {nominal:.2%} a year, median IRR-annualised {irr:.2%}; {over:,} over the 24% cap")  # fmt: skip
    print("\nTotal interest of the monthly loans by repayment method:")
    print(method_comparison(loans))
    rng = np.random.default_rng(7)
    wallets = book.select(
        "loan_id", balance=(pl.col("principal").cast(pl.Float64) * rng.uniform(0, 0.5, book.height)).round(2)
    )
    day = DEMO_START + dt.timedelta(days=DEMO_DAYS + 1)
    recs = accrual.smart_prepay(book, wallets, day, buffer=500, min_amount=100)
    print(f"\nSmart prepay on {day} (wallets of 0–50% of the principal, 500 kept): {recs.height:,} loans, "
          f"{recs['amount'].sum():,} prepaid, {recs['net_saving'].sum():,} interest saved net of fees")  # fmt: skip
    print(
        recs.group_by("strategy")
        .agg(pl.len().alias("loans"), pl.col("amount", "net_saving").sum())
        .sort("strategy")
    )
    accrual.stress(book.head(10), months=2, paths=2)  # compile (or load the cache) before timing
    started = time.perf_counter()
    result = accrual.stress(book, months=24, paths=200, seed=1)
    seconds = time.perf_counter() - started
    print(f"\nStress: the book as of {day - dt.timedelta(days=1)} projected 24 months, 200 Monte Carlo paths "
          f"per scenario, in {seconds:.1f} s (losses = charged off − recovered; VaR and ES over paths):")  # fmt: skip
    _print_stress(result)


def _example_loan(loans: pl.DataFrame) -> dict[str, Any]:
    """A readable example: a 6-month equal-installment loan priced by the day, if the book has one."""
    candidates = loans.filter(
        (pl.col("method") == "equal_installment") & (pl.col("term") == 6) & pl.col("daily_rate").is_not_null()
    )
    return (candidates if candidates.height else loans).row(0, named=True)


def _describe(loan: dict[str, Any]) -> str:
    rate = (
        f"{loan['daily_rate'] * 100:.3f}%/day" if loan.get("daily_rate") is not None
        else f"{loan['annual_rate'] * 100:.2f}%/year"
    )  # fmt: skip
    fee = loan.get("installment_fee_rate") or 0
    return (
        f"#{loan['loan_id']} {loan.get('product', '')} {loan['principal']:,} at {rate}, "
        f"{loan['term']} {loan.get('term_unit', 'month')}(s), {loan['method']}, "
        f"disbursed {loan['disbursed_on']}" + (f", fee {fee * 100:.2f}%/period" if fee else "")
    )


if __name__ == "__main__":
    raise SystemExit(main())
