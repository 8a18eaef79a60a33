"""Docstring examples run as tests (imported as `accrual.*`, never as a top-level `kernels`)."""

import doctest
import importlib
import pkgutil

import accrual.kernels
import pytest

import accrual

MODULES = sorted(
    {f"accrual.{m.name}" for m in pkgutil.iter_modules(accrual.__path__) if m.name != "kernels"}
    | {f"accrual.kernels.{m.name}" for m in pkgutil.iter_modules(accrual.kernels.__path__)}
    | {"accrual"}
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_examples_exist():
    counted = sum(
        doctest.testmod(importlib.import_module(n), optionflags=doctest.ELLIPSIS).attempted for n in MODULES
    )
    assert counted >= 8
