# The two commands of the README: `make demo` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)

# No telemetry, ever: importing the ingestion package switches it off for dbt, dlt and Great Expectations
# (ingestion/core/telemetry.py, the one place), and dbt_project.yml's flags cover dbt run by hand.

.PHONY: demo test test-fast install clean bi-install bi-browser bi-demo test-bi spark-install test-spark

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
	rm -rf $(VENV) $(BI_VENV) $(SPARK_VENV) warehouse target logs

## Apache Superset on the demo warehouse (docs/superset.md). Superset's dependencies conflict with the project's,
## so it lives in its own venv, pinned by bi/superset/requirements.lock.
BI_VENV := .venv-bi
BI_STAMP := $(BI_VENV)/.installed-$(shell cat bi/superset/requirements.lock | sha1sum | cut -c1-12)

bi-install: $(BI_STAMP)

$(BI_STAMP): bi/superset/requirements.lock
	@test -x $(BI_VENV)/bin/python || $(PYTHON) -m venv $(BI_VENV)
	@echo "Installing Apache Superset (pinned) into $(BI_VENV) (first run takes a few minutes)..."
	@$(BI_VENV)/bin/pip install --quiet --disable-pip-version-check -r bi/superset/requirements.lock
	@rm -f $(BI_VENV)/.installed-* && touch $(BI_STAMP)

## Headless Chromium and its driver (Debian packages) for the dashboard test, when missing.
bi-browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }

## Superset serving the attendance dashboard on 127.0.0.1:8088 over a throwaway PostgreSQL demo warehouse,
## until Ctrl-C (prints the URL and a generated admin login).
bi-demo: $(STAMP) $(BI_STAMP)
	$(BIN)/python bi/superset/stack.py

## Opt-in (not part of `make test`): every chart returns rows through Superset's API, and the dashboard renders
## in headless Chromium without a chart error; writes docs/img/superset-dashboard.png. About 5 minutes.
test-bi: $(STAMP) $(BI_STAMP) bi-browser
	$(BIN)/pytest -q tests/bi

## Apache Spark (docs/spark.md): the same dbt project through dbt-spark in session mode. pyspark is large, so it
## lives in its own venv: the project's pinned packages plus requirements-spark.lock. Java 17 comes from Debian's
## packages when no java is on the PATH (needs root, as apt-get does).
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed-$(shell cat requirements.lock requirements-spark.lock pyproject.toml | sha1sum | cut -c1-12)

spark-install: $(SPARK_STAMP)

$(SPARK_STAMP): requirements.lock requirements-spark.lock pyproject.toml
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; }
	@test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	@echo "Installing pinned dependencies and dbt-spark/pyspark into $(SPARK_VENV) (first run takes a few minutes)..."
	@$(SPARK_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-spark.lock
	@$(SPARK_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(SPARK_VENV)/.installed-* && touch $(SPARK_STAMP)

## Opt-in (not part of `make test`): a small mixed group on DuckDB and on Spark over two nights (a full build, then
## an incremental one with register corrections); every mart on Spark must equal DuckDB's. About 15 minutes.
test-spark: $(SPARK_STAMP)
	$(SPARK_VENV)/bin/pytest -q -p no:xdist tests/spark
