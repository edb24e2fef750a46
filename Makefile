# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test bench bench-api lint format clean

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
	$(BIN)/python benchmarks/contact.py --json
	$(MAKE) --no-print-directory bench-api

# The service under load (PostgreSQL, a real `arrears serve`, loopback; several minutes). Also
# on its own, since it is the one to re-run after a change to the service.
bench-api: $(STAMP)
	$(BIN)/python benchmarks/api.py --loans $(BENCH_LOANS) --rate 200 --seconds 60 --workers 2 --json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) arrears.db arrears-demo.db arrears-demo-data demo-book demo-report.html .pytest_cache
