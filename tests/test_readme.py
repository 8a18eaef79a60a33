"""The README's notebook example runs as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_notebook_example_runs():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None
    namespace: dict = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    book = namespace["book"]
    assert book["accrued_through"].max().isoformat() == "2024-07-01"
    assert namespace["postings"]["posted_on"].unique().to_list()[0].isoformat() == "2024-07-01"
