"""The command line over Parquet files: generate, schedule and apr (streaming, rejects), eod, demo."""

import datetime as dt
from types import SimpleNamespace

import polars as pl
import pytest

import accrual as ac
from accrual import io
from accrual.cli import main
from accrual.stress import SCENARIOS


def test_generate_then_schedule_in_batches_equals_one_call(tmp_path, capsys):
    loans = tmp_path / "loans.parquet"
    assert main(["generate", "-n", "2500", "--seed", "3", "-o", str(loans)]) == 0
    book = pl.read_parquet(loans)
    assert book.equals(ac.generate(2500, seed=3))
    out = tmp_path / "schedule.parquet"
    assert main(["schedule", str(loans), "-o", str(out), "--batch-rows", "700"]) == 0
    assert pl.read_parquet(out).equals(ac.schedule(book))
    assert "2,500 loans" in capsys.readouterr().out


def test_apr_in_batches_equals_one_call(tmp_path, capsys):
    loans = tmp_path / "loans.parquet"
    book = ac.generate(1200, seed=4).with_columns(
        term=pl.when(pl.col("loan_id") == 7).then(0).otherwise(pl.col("term"))
    )
    book.write_parquet(loans)
    out, rejects = tmp_path / "cost.parquet", tmp_path / "rejects.parquet"
    argv = ["apr", str(loans), "-o", str(out), "--batch-rows", "500", "--lpr", "0.03"]
    assert main([*argv, "--rejects", str(rejects)]) == 0
    want, bad = ac.apr(book, lpr=0.03, errors="reject")
    assert pl.read_parquet(out).equals(want)
    assert pl.read_parquet(rejects)["loan_id"].to_list() == bad["loan_id"].to_list() == [7]
    printed = capsys.readouterr().out
    assert "1,199 loans costed" in printed and "over the 12.00% cap" in printed
    assert main(argv) == 2  # without --rejects the bad loan fails the run
    assert "column 'term'" in capsys.readouterr().err


def test_schedule_rejects_file_reconciles(tmp_path):
    loans = tmp_path / "loans.parquet"
    book = ac.generate(300, seed=1).with_columns(
        term=pl.when(pl.col("loan_id") % 100 == 0).then(0).otherwise(pl.col("term"))
    )
    book.write_parquet(loans)
    out, rejects = tmp_path / "s.parquet", tmp_path / "r.parquet"
    assert (
        main(
            [
                "schedule",
                str(loans),
                "-o",
                str(out),
                "--rejects",
                str(rejects),
                "--batch-rows",
                "128",
            ]
        )
        == 0
    )
    scheduled = set(pl.read_parquet(out)["loan_id"])
    rejected = set(pl.read_parquet(rejects)["loan_id"])
    assert rejected == {100, 200, 300}
    assert scheduled | rejected == set(book["loan_id"]) and not scheduled & rejected


def test_invalid_input_fails_cleanly_and_leaves_previous_output(tmp_path, capsys):
    loans = tmp_path / "loans.parquet"
    pl.DataFrame(
        {"loan_id": [1, 2], "principal": [100.0, -1.0], "annual_rate": [0.1, 0.1], "term": [3, 3],
         "disbursed_on": [dt.date(2024, 1, 1)] * 2}
    ).write_parquet(loans)  # fmt: skip
    out = tmp_path / "s.parquet"
    out.write_bytes(b"previous")
    assert main(["schedule", str(loans), "-o", str(out)]) == 2
    assert "column 'principal': must be > 0" in capsys.readouterr().err
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_keyword_defaults_from_the_command_line(tmp_path):
    loans = tmp_path / "loans.parquet"
    book = ac.generate(50, seed=2).drop("method")
    book.write_parquet(loans)
    out = tmp_path / "s.parquet"
    assert main(["schedule", str(loans), "-o", str(out), "--method", "等额本金"]) == 0
    assert pl.read_parquet(out).equals(ac.schedule(book, method="equal_principal"))


def test_demo_runs_on_the_sample(capsys):
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "By repayment method" in text and "installments in" in text


def test_unknown_verb_is_an_argparse_error():
    with pytest.raises(SystemExit):
        main(["frobnicate"])


def test_empty_loans_file_gives_an_empty_schedule_with_columns(tmp_path):
    loans = tmp_path / "loans.parquet"
    ac.generate(0).write_parquet(loans)
    out = tmp_path / "s.parquet"
    assert main(["schedule", str(loans), "-o", str(out)]) == 0
    table = pl.read_parquet(out)
    assert table.height == 0 and table.columns == ac.schedule(ac.generate(3)).columns


def test_eod_in_batches_equals_one_call(tmp_path, capsys, monkeypatch):
    loans = ac.generate(900, seed=5)
    as_of = dt.date(2026, 8, 31)
    payments = ac.generate_payments(loans, as_of, seed=5)
    loans.write_parquet(tmp_path / "book.parquet")
    payments.write_parquet(tmp_path / "payments.parquet")
    args = ["eod", str(tmp_path / "book.parquet"), "--as-of", "2026-08-31", "--payments", str(tmp_path / "payments.parquet"),
            "--out", str(tmp_path / "out.parquet"), "--preset", "emergency"]  # fmt: skip
    trims = []  # the batches reuse each other's freed heap pages: no trim
    monkeypatch.setattr(io, "_libc", lambda: SimpleNamespace(malloc_trim=lambda pad: trims.append(pad)))
    assert main([*args, "--postings", str(tmp_path / "post.parquet"), "--batch-rows", "250"]) == 0
    assert not trims
    monkeypatch.undo()
    expected = ac.accrue(loans, as_of, payments, **ac.presets["emergency"])
    assert pl.read_parquet(tmp_path / "out.parquet").equals(expected.book)
    assert pl.read_parquet(tmp_path / "post.parquet").equals(expected.postings)
    assert "900 loans serviced through 2026-08-31" in capsys.readouterr().out
    summary = tmp_path / "summary.parquet"
    assert main([*args, "--postings", str(summary), "--summary", "--batch-rows", "300"]) == 0
    by_day = (
        expected.postings.group_by("posted_on", "kind").agg(pl.col("amount").sum()).sort("posted_on", "kind")
    )
    assert pl.read_parquet(summary).select(by_day.columns).equals(by_day.filter(pl.col("amount") != 0))


def test_eod_refuses_a_second_run_and_keeps_the_previous_files(tmp_path, capsys):
    loans = ac.generate(50, seed=2)
    loans.write_parquet(tmp_path / "book.parquet")
    out, post = tmp_path / "out.parquet", tmp_path / "post.parquet"
    args = ["--out", str(out), "--postings", str(post)]
    assert main(["eod", str(tmp_path / "book.parquet"), "--as-of", "2026-07-31", *args]) == 0
    before = out.read_bytes(), post.read_bytes()
    assert main(["eod", str(out), "--as-of", "2026-07-31", *args]) == 2
    assert "already accrued through" in capsys.readouterr().err
    assert (out.read_bytes(), post.read_bytes()) == before
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind


def test_eod_rejects_unknown_and_duplicate_payments(tmp_path):
    loans = ac.generate(40, seed=2)
    loans.write_parquet(tmp_path / "book.parquet")
    pays = pl.DataFrame(
        {"payment_id": [1, 2, 2, 3], "loan_id": [1, 2, 3, 999], "paid_on": [dt.date(2026, 7, 1)] * 4,
         "amount": [10.0, 10.0, 10.0, 10.0]}
    )  # fmt: skip
    pays.write_parquet(tmp_path / "pays.parquet")
    args = ["eod", str(tmp_path / "book.parquet"), "--as-of", "2026-07-31", "--payments", str(tmp_path / "pays.parquet"),
            "--out", str(tmp_path / "o.parquet"), "--postings", str(tmp_path / "p.parquet"), "--batch-rows", "16"]  # fmt: skip
    assert main(args) == 2
    assert main([*args, "--rejects", str(tmp_path / "r.parquet")]) == 0
    rejects = pl.read_parquet(tmp_path / "r.parquet")
    assert sorted(rejects["payment_id"].drop_nulls().to_list()) == [2, 2, 3]
    assert pl.read_parquet(tmp_path / "o.parquet").height == 40


def test_stress_writes_tables_and_a_fan_chart(tmp_path, capsys):
    loans = tmp_path / "loans.parquet"
    ac.generate(800, seed=2).write_parquet(loans)
    scenarios = tmp_path / "scenarios.csv"
    SCENARIOS.head(2).write_csv(scenarios)
    monthly, losses, chart = tmp_path / "monthly.parquet", tmp_path / "losses.parquet", tmp_path / "fan.png"
    argv = ["stress", str(loans), "--months", "12", "--paths", "40", "--scenarios", str(scenarios),
            "-o", str(monthly), "--losses", str(losses), "--plot", str(chart)]  # fmt: skip
    assert main(argv) == 0
    want = ac.stress(pl.read_parquet(loans), pl.read_csv(scenarios), months=12, paths=40)
    assert pl.read_parquet(monthly).equals(want.monthly)
    assert pl.read_parquet(losses).equals(want.losses)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "800 loans × 12 months, 40 paths" in capsys.readouterr().out
