"""The `accrual` command: the engine's verbs over Parquet files.

accrual generate -n 1000000 --seed 1 -o loans.parquet
accrual schedule loans.parquet -o schedule.parquet [--rejects rejects.parquet] [--method ...]
accrual demo
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from tqdm import tqdm

import accrual
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

    demo = verbs.add_parser("demo", help="schedules for the bundled sample book, summarised")
    demo.add_argument("--loans", default=str(SAMPLE), help="loans Parquet file (default: the sample)")

    args = parser.parse_args(argv)
    try:
        return {"generate": _generate, "schedule": _schedule, "demo": _demo}[args.verb](args)
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
    defaults = {k: getattr(args, k) for k in KEYWORDS if getattr(args, k) is not None}
    total = count_rows(args.loans)
    started = time.perf_counter()
    rejected = 0
    reject_sink = ParquetSink(args.rejects) if args.rejects else contextlib.nullcontext()
    with ParquetSink(args.out) as out, reject_sink as rejects:
        with tqdm(total=total, unit=" loans", unit_scale=True, disable=total < 2 * args.batch_rows) as bar:
            for loans in iter_batches(args.loans, args.batch_rows):
                if rejects is not None:
                    table, bad = accrual.schedule(loans, errors="reject", **defaults)
                    rejects.write(bad)  # even when empty: the file gets its columns
                    rejected += bad["loan_id"].n_unique()
                else:
                    table = accrual.schedule(loans, **defaults)
                out.write(table)
                bar.update(loans.height)
        if out.rows == 0 and total == 0:  # no batch at all: the empty schedule still has columns
            out.write(accrual.schedule(pl.read_parquet(args.loans), **defaults))
    seconds = time.perf_counter() - started
    print(f"{total - rejected:,} loans → {out.rows:,} installments in {seconds:.2f} s; wrote {args.out}")
    if args.rejects:
        print(f"{rejected:,} loans rejected; reasons in {args.rejects}")
    return 0


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
    return 0


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
