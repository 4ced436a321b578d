# The single entry point: make up | demo | down | logs | test | lint | fmt | bench
SHELL := /bin/bash
.DEFAULT_GOAL := help

# On machines without a registry, ../shared/docker/standins.env names local stand-in images.
STANDINS ?= ../shared/docker/standins.env
ifneq ($(wildcard $(STANDINS)),)
include $(STANDINS)
export PYTHON_IMAGE POSTGRES_IMAGE REDIS_IMAGE NGINX_IMAGE PROMETHEUS_IMAGE REGISTRY_IMAGE DIND_IMAGE
endif

COMPOSE ?= docker compose
PYTHON ?= python3
VENV := .venv
# Host-side test runs use the machine's Postgres and Redis.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: help up down logs ps demo test test-ops test-cli test-web test-algorithm test-bench test-harness \
	test-e2e test-prod lint fmt clean backup restore bench chaos secrets cert release deploy promote \
	rollback status smoke test-deploy test-deploy-records test-swarm

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

up: ## build and start the stack, wait until every service is healthy
	$(COMPOSE) up -d --build --wait

down: ## stop the stack (data, jobs and models are kept; `docker compose down -v` erases them)
	$(COMPOSE) down

logs: ## follow the logs of every service
	$(COMPOSE) logs -f --tail=100

ps: ## show services and their health
	$(COMPOSE) ps

# Each service's pinned set, then the shared ops package (editable; its dependencies are in the
# service's pins already).
$(VENV)/%/.installed: %/requirements-dev.txt ops/pyproject.toml
	$(PYTHON) -m venv $(VENV)/$*
	$(VENV)/$*/bin/pip install --quiet --upgrade pip
	$(VENV)/$*/bin/pip install --quiet -r $<
	$(VENV)/$*/bin/pip install --quiet --no-deps -e ops
	touch $@

# The suite's pins, the client it tests and the compose harness (tests/harness), both editable.
$(VENV)/e2e/.installed: tests/e2e/requirements.txt cli/requirements.txt cli/pyproject.toml \
		tests/harness/pyproject.toml
	$(PYTHON) -m venv $(VENV)/e2e
	$(VENV)/e2e/bin/pip install --quiet -r $< -r cli/requirements.txt
	$(VENV)/e2e/bin/pip install --quiet --no-deps -e cli -e tests/harness
	touch $@

# The command-line client: pinned dependencies, then the package itself (editable).
$(VENV)/cli/.installed: cli/requirements-dev.txt cli/requirements.txt cli/pyproject.toml
	$(PYTHON) -m venv $(VENV)/cli
	$(VENV)/cli/bin/pip install --quiet -r cli/requirements-dev.txt
	$(VENV)/cli/bin/pip install --quiet --no-deps -e cli
	touch $@

test: lint test-ops test-cli test-web test-algorithm test-bench test-harness test-e2e test-prod test-deploy test-swarm ## lint, unit suites, end-to-end (base and prod overlay), staged deploys (with their bookkeeping), the swarm

test-ops: $(VENV)/ops/.installed ## the shared ops package's tests (no server needed)
	cd ops && ../$(VENV)/ops/bin/pytest -q

test-cli: $(VENV)/cli/.installed ## the command-line client's unit tests (no server needed)
	cd cli && ../$(VENV)/cli/bin/pytest -q

demo: $(VENV)/cli/.installed ## on a running stack (make up): load the sample, train, predict (scripts/demo)
	scripts/demo

test-web: $(VENV)/web/.installed ## Django tests against the host's Postgres
	cd web && DATABASE_URL=$(TEST_DATABASE_URL) ../$(VENV)/web/bin/pytest -q

test-algorithm: $(VENV)/algorithm/.installed ## Flask/Celery/ML tests against the host's Postgres, Redis and a real worker
	cd algorithm && DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		../$(VENV)/algorithm/bin/pytest -q

test-bench: $(VENV)/algorithm/.installed ## the bench's in-process model against the ML service's code (no stack)
	PYTHONPATH=algorithm $(VENV)/algorithm/bin/pytest -q bench/tests

test-harness: $(VENV)/e2e/.installed ## the compose harness (tests/harness) against the engine: waits, failures, down -v
	$(VENV)/e2e/bin/pytest -q tests/harness

test-e2e: $(VENV)/e2e/.installed ## end-to-end through nginx on its own compose project (removed afterwards)
	E2E_PROFILE=dev E2E_HTTP_PORT=18080 $(VENV)/e2e/bin/pytest -q tests/e2e

test-prod: $(VENV)/e2e/.installed ## the same suite against the production overlay, plus its hardening checks
	E2E_PROFILE=prod E2E_HTTP_PORT=18081 $(VENV)/e2e/bin/pytest -q tests/e2e

test-swarm: $(VENV)/e2e/.installed ## a 3-node Docker Swarm (DinD) on this machine: a release deployed, updated, rolled back, a node lost (minutes)
	tests/swarm/run $(SWARM_TEST_ARGS)

lint: $(VENV)/web/.installed ## ruff lint and format check on every Python service
	$(VENV)/web/bin/ruff check ops web algorithm tests bench cli scripts/make_sample scripts/deploy
	$(VENV)/web/bin/ruff format --check ops web algorithm tests bench cli scripts/make_sample scripts/deploy

fmt: $(VENV)/web/.installed ## apply ruff formatting and safe fixes
	$(VENV)/web/bin/ruff check --fix ops web algorithm tests bench cli scripts/make_sample scripts/deploy
	$(VENV)/web/bin/ruff format ops web algorithm tests bench cli scripts/make_sample scripts/deploy

secrets: ## write strong random values for every blank production secret into .env (mode 600; existing values kept)
	scripts/secrets

cert: ## a self-signed TLS certificate and key for staging and tests in certs/ (the prod overlay's default)
	scripts/make-cert certs

backup: ## back up Postgres and the models volume into backups/<UTC timestamp>/
	scripts/backup

restore: ## restore a backup into the running stack: make restore BACKUP=backups/<timestamp>
	scripts/restore $(BACKUP)

chaos: ## fault injection and a load run against a stack of its own (minutes; see RELIABILITY.md)
	tests/chaos/run

bench: ## the benchmark suite on its own compose project; prints one table (see BENCHMARKS.md)
	bench/run

release: ## build web, algorithm and nginx once, tagged with the commit; writes releases/<tag>.json
	scripts/deploy release $(if $(RELEASE),--tag $(RELEASE))

deploy: ## roll a stage onto a release: make deploy STAGE=staging RELEASE=<tag> (deploy/<stage>.env)
	scripts/deploy deploy $(STAGE) $(RELEASE)

promote: ## deploy the release staging runs to production, if its staging smoke run passed
	scripts/deploy promote

rollback: ## back to the release a stage ran before: make rollback STAGE=production
	scripts/deploy rollback $(STAGE)

status: ## which release a stage runs, since when, the previous one: make status STAGE=staging
	scripts/deploy status $(STAGE)

smoke: $(VENV)/e2e/.installed ## the smoke suite against a stage, recorded for promote: make smoke STAGE=staging
	scripts/deploy smoke $(STAGE)

test-deploy-records: $(VENV)/e2e/.installed ## scripts/deploy's bookkeeping (promotion gate, status, rollback) without Docker; seconds
	$(VENV)/e2e/bin/pytest -q tests/deploy/test_records.py

test-deploy: $(VENV)/e2e/.installed ## releases, staging, promotion, rolling deploys under load, rollbacks (own stacks and image tags, removed afterwards)
	$(VENV)/e2e/bin/pytest -q -s tests/deploy

clean: ## remove the host-side virtualenvs
	rm -rf $(VENV)
