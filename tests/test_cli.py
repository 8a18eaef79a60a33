"""The command line over Parquet files: generate, schedule (streaming, rejects), demo."""

import datetime as dt

import polars as pl
import pytest

import accrual as ac
from accrual.cli import main


def test_generate_then_schedule_in_batches_equals_one_call(tmp_path, capsys):
    loans = tmp_path / "loans.parquet"
    assert main(["generate", "-n", "2500", "--seed", "3", "-o", str(loans)]) == 0
    book = pl.read_parquet(loans)
    assert book.equals(ac.generate(2500, seed=3))
    out = tmp_path / "schedule.parquet"
    assert main(["schedule", str(loans), "-o", str(out), "--batch-rows", "700"]) == 0
    assert pl.read_parquet(out).equals(ac.schedule(book))
    assert "2,500 loans" in capsys.readouterr().out


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
