# The two commands: `make run` and `make test`. Both install whatever is missing first.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-pg check format openapi bench

install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	@$(UV) sync --frozen --quiet

run: install
	$(RUN) registry migrate
	$(RUN) registry serve --host $(HOST) --port $(PORT)

test: install
	$(RUN) pytest -q

test-pg: install
	bash .ci/postgres.sh $(RUN) pytest -q

check: install
	$(RUN) ruff check registry tests migrations
	$(RUN) ruff format --check registry tests migrations
	$(RUN) mypy registry

format: install
	$(RUN) ruff check --fix registry tests migrations
	$(RUN) ruff format registry tests migrations

openapi: install
	$(RUN) registry openapi > openapi/openapi.json

bench: install
	$(RUN) python -m tests.bench
