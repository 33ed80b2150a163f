# Every target creates what it needs (the virtual environment; the npm packages of the live
# runtime, from live/package-lock.json); nothing beyond Python 3.11 and Node.js with npm is assumed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

LIVE   := live/node_modules/.installed

.PHONY: test bench bench-gates accept-bench validate notebooks lint typecheck lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# Pin what is installed now (after an intended upgrade; then make accept-bench if figures moved).
lock: $(STAMP)
	{ head -n 2 requirements.lock; $(PY) -m pip freeze --exclude-editable | grep -v '^runasync-harness'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# workerd and Miniflare for the live runtime, from the committed lock file.
$(LIVE): live/package-lock.json
	cd live && npm ci --no-audit --no-fund --loglevel=error
	touch $(LIVE)

# The suite on every core, then the speed measurements alone (they compare ratios).
test: $(STAMP) $(LIVE)
	$(PY) -m pytest -n auto -m "not serial"
	$(PY) -m pytest -m serial

bench: $(STAMP)
	$(PY) -m simulator bench

# The regression gates alone: simulated figures against simulator/data/gates.json, and the harness's
# speed as a benchmark (its pytest-benchmark JSON goes to reports/benchmarks/).
bench-gates: $(STAMP)
	mkdir -p reports/benchmarks
	$(PY) -m pytest -m gate --benchmark-enable --benchmark-json=reports/benchmarks/latest.json

# The simulated platform against workerd: micro-benchmarks, a local-workerd profile, and the
# validation table of every preset design (reports/validate/; several minutes, real time).
validate: $(STAMP) $(LIVE)
	$(PY) -m simulator validate

# Record the current simulated figures as the expected ones (after an intended change).
accept-bench: $(STAMP)
	$(PY) -m simulator gates --accept

# Re-execute the design-review notebooks in place, outputs included, to commit (make test fails on stale ones).
notebooks: $(STAMP)
	$(PY) -m tests.notebooks.execute

lint: $(STAMP)
	$(PY) -m ruff check engine simulator tests
	$(PY) -m ruff format --check engine simulator tests

typecheck: $(STAMP)
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks live/node_modules
