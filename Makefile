# Territory platform: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
DATA_DIR ?= data
UV_VERSION := 0.13.9
# uv from PATH, else the copy `make install-uv` puts in the user's Python.
UV = $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=
ARGS ?=

.PHONY: help install-uv install web run infra-up infra-down test test-unit test-e2e test-deploy config-doc lint format schemas bench clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

install-uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: install-uv ## Install the locked Python dependencies into .venv
	@$(UV) sync --frozen --quiet

web: ## Build the web map (vendored Leaflet, no internet at run time) into web/dist
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

run: install web ## Run the platform embedded (SQLite, in-process bus) on 127.0.0.1:$(PORT)
	$(UV) run --frozen territory-embedded --port $(PORT) --data-dir $(DATA_DIR) $(ARGS)

infra-up: ## Install (once) and start PostGIS, Apache Kafka and Chromium for the tests and distributed mode
	bash scripts/infra/postgis-start.sh
	bash scripts/infra/kafka-start.sh
	bash scripts/infra/chromium-install.sh

infra-down: ## Stop PostGIS and Kafka
	bash scripts/infra/kafka-stop.sh
	bash scripts/infra/postgis-stop.sh

test: install web infra-up ## Install and start everything the tests need, then lint and run the whole suite
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	cd web && npm run check
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install ## Unit tests only (no servers)
	$(UV) run --frozen pytest shared/tests/unit $(PYTEST_ARGS)

test-deploy: install infra-up ## Compose file, k8s overlays, images' commands, processes and their metrics
	$(UV) run --frozen pytest tests/deploy $(PYTEST_ARGS)

config-doc: install ## Regenerate the settings table in docs/operations.md
	$(UV) run --frozen python -m territory_shared.settings_doc

test-e2e: install infra-up ## End-to-end tests only
	$(UV) run --frozen pytest tests/e2e $(PYTEST_ARGS)

lint: install ## Lint, check formatting and types (Python and the web map's TypeScript)
	cd web && npm run check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

format: install ## Fix lint and format
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

schemas: install ## Regenerate the committed event JSON Schemas and AsyncAPI document
	$(UV) run --frozen python -m territory_shared.events.schemas

bench: install infra-up ## Measure event throughput through the outbox (embedded and Kafka)
	$(UV) run --frozen python benchmarks/outbox_throughput.py

clean: ## Remove the embedded data folder
	rm -rf $(DATA_DIR)
