# Minhu — two commands do all set-up on a fresh Debian machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

# Tests and the demo use loopback only. The test database is created (and dropped) by the suite.
export MINHU_TEST_DATABASE_URL ?= postgresql+asyncpg:///minhu_test?host=/var/run/postgresql
export MINHU_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help install services browser test test-pg test-sqlite lint demo bench clean

help:
	@echo "make demo   — run the whole system on embedded defaults (SQLite, simulated PBX)"
	@echo "make test   — install what is missing, start PostgreSQL and Redis, run the suite"
	@echo "make bench  — run the benchmarks and write bench/results.json"

$(STAMP): pyproject.toml
	@bash scripts/ensure-python.sh "$(PYTHON)" "$(VENV)"
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

services:
	@bash scripts/ensure-services.sh

# Headless Chromium and CJK fonts for the agent desktop's browser tests (Debian packages).
browser:
	@bash scripts/ensure-browser.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The whole suite against PostgreSQL, then the database-facing tests again against SQLite.
# pytest exits 5 when it collects no test; make treats that as a failure, as it should.
test: install services browser lint test-pg test-sqlite

test-pg: install
	$(VENV)/bin/pytest -q

test-sqlite: install
	MINHU_TEST_DATABASE_URL="sqlite+aiosqlite:///$(CURDIR)/var/test-sqlite.db" $(VENV)/bin/pytest -q -m db

demo: install
	@bash scripts/demo.sh

bench: install services
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
