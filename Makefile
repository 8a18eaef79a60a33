# `make demo` and `make test` each create (or reuse) .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all bench peers lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "accrual needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/accrual demo

# Fast profile: everything but the tests marked slow, plus one pass over each benchmark.
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests
	$(BIN)/python -m pytest -q bench --benchmark-disable -m "not slow"

test-all: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only --benchmark-columns=min,median,max,rounds

peers: $(STAMP)
	$(BIN)/python -m bench.peers --processes 5

lint: $(STAMP)
	$(BIN)/ruff check accrual kernels bench tests
	$(BIN)/ruff format --check accrual kernels bench tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .benchmarks
	find . -name __pycache__ -prune -exec rm -rf {} +
