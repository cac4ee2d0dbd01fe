# The README's commands. Each target sets up .venv from the committed lock first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast bench lint lock clean postgres

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
	touch $(STAMP)

run: $(STAMP)  ## ingest the seeds (and sources.toml) into warehouse/newsflow.sqlite (DuckLake)
	$(BIN)/newsflow run

test: lint  ## the lint gates, then the whole suite, server tests included (what CI runs)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## skip the tests that start a real Prefect server
	$(BIN)/python -m pytest -m "not server"

postgres:  ## Debian's postgresql, for the PostgreSQL-catalog test (installed as root when missing)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
		else echo "postgresql is not installed and this is not root: its test will be skipped"; fi

bench: $(STAMP)  ## benchmarks/; tables printed, JSON under benchmarks/results/
	$(BIN)/python -m benchmarks

lint: $(STAMP)  ## ruff (rules and format) and strict mypy over flows, tasks and warehouse
	$(BIN)/ruff check flows tasks warehouse tests benchmarks newsflow.py
	$(BIN)/ruff format --check flows tasks warehouse tests benchmarks newsflow.py
	$(BIN)/mypy

lock:  ## recompile requirements.lock from requirements.in (needs uv)
	uv pip compile requirements.in -o requirements.lock --python-version 3.11 --no-header

clean:
	rm -rf $(VENV) warehouse/*.sqlite warehouse/*.files warehouse/.*.duckdb warehouse/.*.duckdb.wal \
		warehouse/.*.lock warehouse/.*.staging

# Running as a service (README: "Run it as a service"); prefect.yaml reads the schedule from these.
export NEWSFLOW_SCHEDULE_CRON ?= 0 6 * * *
export NEWSFLOW_SCHEDULE_TIMEZONE ?= UTC

.PHONY: serve watch deploy worker

serve: $(STAMP)  ## serve daily-ingest and ingest-on-event from one process (no work pool)
	$(BIN)/newsflow serve

watch: $(STAMP)  ## emit newsflow.source.updated for files dropped into seeds/
	$(BIN)/newsflow watch

deploy: $(STAMP)  ## the work-pool way: the pool, the deployments in prefect.yaml, automations/*.yaml
	$(BIN)/prefect work-pool inspect newsflow >/dev/null 2>&1 || \
		$(BIN)/prefect work-pool create newsflow --type process
	$(BIN)/prefect --no-prompt deploy --all
	$(BIN)/python -m flows.automations

worker: $(STAMP)  ## run the deployments' flow runs; keep it in the foreground or under systemd
	exec $(BIN)/prefect worker start --pool newsflow
