# Every target creates the virtual environment it needs; nothing beyond Python is assumed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test bench bench-gates accept-bench lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m simulator bench

# The regression gates alone: simulated figures against simulator/data/gates.json, and the harness's
# speed as a benchmark (its pytest-benchmark JSON goes to reports/benchmarks/).
bench-gates: $(STAMP)
	mkdir -p reports/benchmarks
	$(PY) -m pytest -m gate --benchmark-enable --benchmark-json=reports/benchmarks/latest.json

# Record the current simulated figures as the expected ones (after an intended change).
accept-bench: $(STAMP)
	$(PY) -m simulator gates --accept

lint: $(STAMP)
	$(PY) -m ruff check engine simulator tests
	$(PY) -m ruff format --check engine simulator tests

typecheck: $(STAMP)
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks
