# BlueClerk accounting sync. `make dev` runs the local stack; `make test` runs every test. Both set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 (the Lambda runtime) when this machine has it, else 3.11+.
PYTHON ?= $(shell (PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null) || command -v python3.13 || command -v python3.12 || command -v python3.11 || command -v python3)
PY313_DIR := $(shell dirname "$$( (PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null) || command -v python3.13 || echo /nonexistent/python3.13)")
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/common
export SAM_CLI_TELEMETRY := 0
PYTEST_WORKERS ?= 2

.PHONY: help setup setup-sam dev test test-unit test-integration test-stack test-sandbox test-infra lint lint-cfn \
        format openapi build validate weekly-sync redrive-dlq soak bench clean deploy invoke pr

help:  ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt layers/common/requirements.txt
	@echo "setting up $(VENV) with $(PYTHON)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $@

setup: $(BIN)/.installed  ## create .venv with the pinned dependencies

$(SAM_VENV)/.installed:
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli==$(SAM_CLI_VERSION)
	@touch $@

setup-sam: $(SAM_VENV)/.installed  ## install the AWS SAM CLI in its own venv (its pins clash with moto)

dev: setup  ## run the local stack: API :3000, moto :5000, sandboxes :4010, queue pollers
	$(BIN)/python -m local.stack dev

weekly-sync: setup  ## fire the weekly schedule now against the running local stack
	$(BIN)/python -m local.stack weekly-sync

redrive-dlq: setup  ## move every DLQ's messages back to their source queue (local stack)
	$(BIN)/python -m local.stack redrive-dlq

test: setup setup-sam  ## unit + integration + local-stack tests (what CI runs)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) -m "not soak" tests

test-unit: setup
	$(BIN)/python -m pytest -q tests/unit

test-integration: setup
	$(BIN)/python -m pytest -q tests/integration

test-sandbox: setup
	$(BIN)/python -m pytest -q tests/sandbox

test-infra: setup
	$(BIN)/python -m pytest -q tests/infra

test-stack: setup
	$(BIN)/python -m pytest -q -m stack tests

soak: setup  ## the long reliability runs (issue 8's full figures; written to docs/RELIABILITY.md)
	$(BIN)/python -m pytest -q -m soak tests

reliability: setup  ## the short reliability and security suite alone (also part of make test)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) -m "not soak" tests/reliability

lint: setup  ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lint-cfn: setup setup-sam  ## cfn-lint + sam validate --lint
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint

openapi: setup  ## regenerate openapi.json from the code
	TABLE_NAME=openapi $(BIN)/python -m booksync.openapi > openapi.json

build: setup-sam  ## sam build (needs python3.13 on PATH)
	PATH="$(PY313_DIR):$$PATH" $(SAM) build

validate: lint-cfn

deploy: build  ## sam deploy (first time: make deploy STAGE=dev ARGS=--guided)
	$(SAM) deploy --config-env $(or $(STAGE),default) $(ARGS)

invoke: build  ## sam local invoke FN=ApiFunction EVENT=events/api/create_customer.json (needs Docker)
	$(SAM) local invoke $(FN) -e $(EVENT)

pr: format lint lint-cfn test

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

bench: setup  ## benchmarks: one table of ratios into docs/PERFORMANCE.md (BENCH_SECTIONS=cold,resync,backfill,import)
	$(BIN)/python -m bench.run
