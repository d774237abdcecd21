# Marketflow: `make run` serves the system locally, `make test` runs the whole suite.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python

.PHONY: install frontend run test unit lint contracts release-contracts bench infra-up infra-down clean access-matrix helm

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The workspace, exactly as locked in uv.lock; and the web app's front end, built from its
# package-lock.json (npm ci) into services/web/frontend/dist, which the web BFF serves.
install: $(UV) frontend
	$(UV) sync --frozen --quiet

FRONTEND := services/web/frontend
frontend:
	@if [[ -f $(FRONTEND)/package.json ]]; then \
	  cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	else echo "make: no $(FRONTEND)/package.json yet; the web app is not built"; fi

# axe-core for the browser tests' accessibility scans (versions locked in
# tests/browser/package-lock.json; its axe.min.js is injected into the pages).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

run: install
	deploy/local/run.sh

# The AsyncAPI project's own parser, which the tests run on contracts/asyncapi.json
# (Node.js and npm from the machine; versions locked in tests/asyncapi/package-lock.json).
ASYNCAPI_CHECKER := tests/asyncapi/node_modules/.package-lock.json
$(ASYNCAPI_CHECKER): tests/asyncapi/package.json tests/asyncapi/package-lock.json
	cd tests/asyncapi && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

# helm, for the chart's tests (lint, template): built once from its Go module with the
# machine's Go (pinned; about a minute and a half on two cores), never downloaded prebuilt.
HELM_VERSION := v3.16.4
HELM := $(TOOLS)/bin/helm
$(HELM):
	GOBIN=$(abspath $(TOOLS))/bin GOFLAGS=-mod=mod go install \
	  -ldflags "-X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION)" \
	  helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

helm: $(HELM)

# Whole suite against the real Kafka and PostgreSQL (started here when not configured).
# The single local broker holds one replica per topic (services default to RF 3 / ISR 2).
test: export MARKETFLOW_KAFKA_REPLICATION_FACTOR ?= 1
test: export MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS ?= 1
test: install $(ASYNCAPI_CHECKER) $(AXE) $(HELM) infra-up
	cd $(FRONTEND) && npm test --silent
	$(PY) -m pytest $(PYTEST_ARGS)

unit: install $(ASYNCAPI_CHECKER) $(HELM)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check contracts shared services tests
	.venv/bin/mypy contracts shared services tests/benchmarks

# Figures beside raw baselines from the same run; results in var/bench/results.json.
SCALE ?= small
bench: install infra-up
	$(PY) -m tests.benchmarks --scale $(SCALE) --out var/bench/results.json

# Regenerate the checked-in JSON Schemas and AsyncAPI document after changing contracts/.
contracts: install
	$(PY) -m contracts.schemas
	$(PY) -m contracts.asyncapi
	$(PY) -m services.web.openapi_dump

# When a release is cut: accept the current schemas as released (contracts/released/, the
# baseline of the compatibility test). Refuses a breaking change to a released type.
release-contracts: install
	$(PY) -m contracts.release

access-matrix: install
	$(PY) -m services.access_matrix

infra-up:
	deploy/local/infra.sh up

infra-down:
	deploy/local/infra.sh down

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
