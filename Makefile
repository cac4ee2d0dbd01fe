# The README's commands. Each target sets up .venv from the committed lock first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast bench lint lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)  ## ingest the seeds (and sources.toml) into warehouse/newsflow.duckdb
	$(BIN)/newsflow run

test: $(STAMP)  ## the whole suite, server tests included (what CI runs)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## skip the tests that start a real Prefect server
	$(BIN)/python -m pytest -m "not server"

bench: $(STAMP)  ## benchmarks/; tables printed, JSON under benchmarks/results/
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check flows tasks warehouse tests benchmarks
	$(BIN)/mypy

lock:  ## recompile requirements.lock from requirements.in (needs uv)
	uv pip compile requirements.in -o requirements.lock --python-version 3.11 --no-header

clean:
	rm -rf $(VENV) warehouse/*.duckdb warehouse/*.duckdb.wal
