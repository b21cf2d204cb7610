# The two commands of the README: `make demo` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)

# No telemetry, ever: importing the ingestion package switches it off for dbt, dlt and Great Expectations
# (ingestion/core/telemetry.py, the one place), and dbt_project.yml's flags cover dbt run by hand.

.PHONY: demo test test-fast install clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned dependencies into $(VENV) (first run takes a minute or two)..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

## Run the nightly pipeline end to end against the built-in iSAMS sandbox (DuckDB warehouse).
demo: $(STAMP)
	$(BIN)/schoolwh demo

## The whole test suite: Python tests (sandbox, ingestion, pipeline) and the dbt build with its tests.
## Two workers, one test module each at a time (module fixtures build one warehouse per module).
test: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

## The unit-level tests only (no warehouse build, no dbt, no PostgreSQL): under a minute, for the edit loop.
test-fast: $(STAMP)
	$(BIN)/pytest -q -n 2 -m fast

clean:
	rm -rf $(VENV) warehouse target logs
