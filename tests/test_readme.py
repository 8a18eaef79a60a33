"""The README's notebook example runs as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_notebook_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 2
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    book = namespace["book"]
    assert book["accrued_through"].max().isoformat() == "2024-07-01"
    assert namespace["postings"]["posted_on"].unique().to_list()[0].isoformat() == "2024-07-01"
    exec(compile(blocks[1], "README.md", "exec"), namespace)  # cost, prepayment, smart repayment
    assert namespace["cost"].height == 2
    advice = namespace["advice"]
    assert advice["loan_id"].to_list() == [2] and advice["net_saving"][0] > 0
    assert namespace["risk"].losses.height == 3
