# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
# Each creates .venv with what it needs the first time (and again when pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
# pytest-xdist workers for `make test` (each test file runs whole in one worker, so its
# module fixtures are built once); TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2

.PHONY: demo test lint format dictionary clean help

help:
	@echo "make demo   set up, run the whole demo on a synthetic world, then serve the hub and its web UI (DEMO_ARGS=--no-serve to skip serving)"
	@echo "make test   set up (with test extras), then run the whole test suite"
	@echo "make lint   ruff (lint and format check) and mypy --strict"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Safehold needs Python 3.11 or newer; set PYTHON=python3.11 (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[disk]'
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,disk]'
	@touch $@ $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/safehold demo $(DEMO_ARGS)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(TEST_STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

dictionary: $(DEMO_STAMP)
	$(BIN)/safehold schema dictionary --out docs/data-dictionary.md

clean:
	rm -rf $(VENV) safehold-data .pytest_cache .mypy_cache .ruff_cache
