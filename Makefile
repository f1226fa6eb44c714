# The two commands: `make run` and `make test`. Both install whatever is missing first.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
HOST ?= 127.0.0.1
PORT ?= 8000

# pip refuses --user inside a virtualenv; outside one, --user keeps the system's Python as it was.
PIP_USER := $(shell $(PYTHON) -c 'import sys; print("" if sys.prefix != sys.base_prefix else "--user")')

.PHONY: uv install install-serve run test test-pg check format openapi bench

uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet $(PIP_USER) uv \
		|| $(PYTHON) -m pip install --quiet $(PIP_USER) --break-system-packages uv

# Everything: the service, the test suite and the development tools.
install: uv
	@$(UV) sync --frozen --quiet

# What serving needs, and nothing else (tools already installed are left where they are).
install-serve: uv
	@$(UV) sync --frozen --no-dev --inexact --quiet

run: install-serve
	$(UV) run --no-sync --quiet registry migrate
	$(UV) run --no-sync --quiet registry serve --host $(HOST) --port $(PORT)

# The workbench's browser tests drive Debian's Chromium, which .ci/browser.sh installs when missing (as root).
test: install
	bash .ci/browser.sh $(RUN) pytest -q

test-pg: install
	bash .ci/browser.sh bash .ci/postgres.sh $(RUN) pytest -q

check: install
	$(RUN) ruff check registry tests migrations
	$(RUN) ruff format --check registry tests migrations
	$(RUN) mypy registry tests

format: install
	$(RUN) ruff check --fix registry tests migrations
	$(RUN) ruff format registry tests migrations

openapi: install
	$(RUN) registry openapi > openapi/openapi.json

# The look-up benchmarks drive the server with wrk, installed from Debian's packages when missing.
# `make bench` runs them all; `make bench BENCH=submit` one of them (lookup, import, history, alerts, submit, editions, matching, stats, pages).
bench: install
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(RUN) python -m tests.bench $(BENCH)
