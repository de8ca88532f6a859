# vidmesh: `make up` starts the system, `make test` passes the tests.
# Every target installs what it needs first (`make deps`), into ~/.cache/vidmesh.

SHELL := /bin/bash
PYTHON := .venv/bin/python
STACK := $(PYTHON) -m scripts.devstack
TEST_DIRS := $(wildcard tests/unit tests/integration tests/e2e tests/fuzz tests/stack tests/conformance)

.PHONY: help deps python-env protos codegen web unit new-service up start down status logs certs canary canary-rollback fault test conformance bench chaos soak demo trace lint contracts-check rebuild-read-model reset \
	compose-env compose-check compose-up compose-down compose-logs

help:
	@echo "make up       start the whole system in the foreground (Ctrl-C stops it)"
	@echo "make start    start it in the background and return once healthy; make down stops it"
	@echo "make status   pid, address, health and memory of every process"
	@echo "make logs     the last lines of every log (make logs ARGS=-f to follow)"
	@echo "make certs    the developer's identity (.run/certs/operator/) from the running stack's Consul"
	@echo "make canary SERVICE=video-query VERSION=v2 WEIGHT=10   send 10% of a service's calls to v2"
	@echo "make canary-rollback SERVICE=video-query   every call to v1 again"
	@echo "make fault SERVICE=notification FAULT='{\"abort\": {\"code\": \"UNAVAILABLE\", \"percent\": 100}}'   (FAULT= removes it)"
	@echo "make test     unit, integration and e2e tests against a real stack"
	@echo "make unit     the unit tests alone: no stack, no real binary, seconds"
	@echo "make new-service NAME=widgets   a working service from the template, in the topology"
	@echo "make conformance SERVICE=name   the MESH.md conformance kit against one service (all without SERVICE)"
	@echo "make protos   Python stubs and descriptor sets from protos/ into gen/ (never committed)"
	@echo "make codegen  Go stubs and binaries, the OpenAPI document and its TypeScript types, into gen/"
	@echo "make web      the web app (web/ into web/dist), which the gateway serves at /"
	@echo "make demo     a guided tour of the six patterns against the running stack (make start first)"
	@echo "make trace    the demo's publish (or ID=<trace id>) as a waterfall, from Jaeger"
	@echo "make bench    benchmarks: speed and memory tables next to their targets"
	@echo "make chaos    a fault campaign with an exactly-once checker, on a stack of its own (CYCLES=100 SEED=... NETWORK=1)"
	@echo "make soak     steady load on a stack of its own: memory flat, mesh tables bounded, no error (MINUTES=30)"
	@echo "make lint     buf lint (STANDARD), ruff, mypy, tsc (the web app), go vet and staticcheck"
	@echo "make contracts-check   buf breaking against main"
	@echo "make compose-up     the same system under Docker Compose (compose-down, ARGS=-v deletes volumes)"
	@echo "make compose-logs   Compose logs (ARGS=-f follows)"
	@echo "make compose-check  .env matches settings.env, and a real Compose accepts docker-compose.yml"
	@echo "make rebuild-read-model   rebuild video-query's read schema by replaying the event topics"
	@echo "make reset    stop the stack and delete its data and logs (the download cache stays)"

deps:
	@python3 scripts/deps.py

# The Python part of deps alone (uv + uv sync), so `make protos && docker compose up` needs
# nothing but Python and Docker: no Go, Java, Maven or npm.
python-env:
	@python3 scripts/deps.py python

protos: python-env
	@$(PYTHON) scripts/protos.py build

# Code that is not Python, from the same protos and the same protoc: the Go stubs and
# vidmesh's Go binaries (gen/go, gen/bin), the OpenAPI document and the TypeScript types from
# it (gen/openapi); each step is its own module and skips itself when its inputs did not change.
codegen: deps protos
	@$(PYTHON) -m scripts.codegen
	@$(PYTHON) -m scripts.openapi build

web: codegen
	@$(PYTHON) -m scripts.webapp build

# The stack runs what `make protos` and `make codegen` generate (Envoy reads
# gen/vidmesh.binpb, the services import gen/python, gen/bin holds the Go services) and serves
# what `make web` builds: a fresh clone must build them first.
up: deps web
	@$(STACK) up

start: deps web
	@$(STACK) start

down:
	@$(STACK) down

status:
	@$(STACK) status

logs:
	@$(STACK) logs $(ARGS)

# The developer's identity for grpcurl and ghz (the running stack keeps it renewed itself).
certs: python-env
	@VIDMESH_CONSUL_HTTP_ADDR=$$($(PYTHON) -c "from mesh.settings import load; s = load(); print(f'{s.host}:{s.consul_http_port}')") \
	$(PYTHON) -m mesh.certs issue $$($(PYTHON) -c "from mesh.settings import load; print(load().certs_dir)") operator

# Traffic policy, written to the running stack's Consul (mesh/traffic): effective in Envoy and
# in the BFFs' proxyless clients within a second, with no restart.
TRAFFIC := PYTHONPATH=.:gen/python $(PYTHON) -m mesh.traffic

canary:
	@$(TRAFFIC) canary $(SERVICE) $(VERSION) $(WEIGHT)

canary-rollback:
	@$(TRAFFIC) rollback $(SERVICE)

fault:
	@$(TRAFFIC) fault $(SERVICE) $(if $(FAULT),'$(FAULT)')

# A new service from the template: contract, package, unit tests, topology entry, settings.
new-service: python-env
	@$(PYTHON) -m scripts.new_service $(NAME)
	@echo "next: make protos unit, then make up (or start) and make conformance SERVICE=$(NAME)"

# The unit tests start nothing (tests/unit/conftest.py refuses the stack).
unit: codegen
	@cd web && npm test --silent
	@$(PYTHON) -m pytest -q tests/unit

# Starts the stack (or reuses a healthy one), runs every test (vitest, pytest, then go test with
# the Go integration tests and the Go client), stops what it started. The slowest tests are
# listed at the end: the suite's budget is 25 minutes on a warm cache.
test: deps web
	@cd web && npm test --silent
	@$(PYTHON) -m scripts.run_tests --durations=25 $(TEST_DIRS)

# The conformance kit (tests/conformance) against one service of mesh/topology.py, or every
# one without SERVICE; the stack is started or reused as for `make test`.
conformance: deps web
	@$(PYTHON) -m scripts.run_tests --pytest-only tests/conformance/contract $(if $(SERVICE),--service $(SERVICE))

demo: deps protos
	@$(PYTHON) -m scripts.demo

# One trace from the stack's Jaeger as a waterfall: the last demo's publish, or ID=<trace id>.
trace: python-env
	@$(PYTHON) -m scripts.trace $(ID)

# web: the bench's private stack runs Envoy, which will not start without web/dist to serve.
bench: deps web
	@$(PYTHON) -m scripts.bench

# Faults (kill -9, SIGSTOP, a relay killed mid-publish, a rolling restart) under a workload,
# then every read model checked against the history; a private stack, so a running one is left alone.
CYCLES ?= 100
chaos: deps web
	@$(PYTHON) -m scripts.chaos --cycles $(CYCLES) $(if $(SEED),--seed $(SEED)) $(if $(NETWORK),--network)

# Steady load for MINUTES on a private stack with retention lowered to a minute.
MINUTES ?= 30
soak: deps web
	@$(PYTHON) -m scripts.soak --minutes $(MINUTES)

lint: deps codegen
	@$(PYTHON) scripts/protos.py lint
	@cd web && npm run --silent typecheck
	@$(PYTHON) -m scripts.golang vet
	@$(PYTHON) -m ruff check .
	@$(PYTHON) -m mypy mesh services bff scripts tests

contracts-check: deps protos
	@$(PYTHON) scripts/protos.py breaking --against main

# Safe while video-query runs: see services/video_query/rebuild.py.
rebuild-read-model: protos
	@VIDMESH_DATABASE_URL=$$($(PYTHON) -c "from mesh.dbbootstrap import service_dsn; print(service_dsn('video_query'))") \
	PYTHONPATH=.:gen/python $(PYTHON) -m services.video_query.rebuild

reset: down
	@$(PYTHON) -c "from mesh.settings import load; import shutil; s = load(); \
	[shutil.rmtree(p, ignore_errors=True) for p in (s.data_dir, s.log_dir)]; print('removed', s.data_dir, 'and', s.log_dir)"

# Docker Compose reads .env, which scripts/compose_env.py writes from settings.env (a test
# fails when the two differ).
compose-env:
	@python3 -m scripts.compose_env write

compose-check: deps
	@$(PYTHON) -m scripts.compose_env check

# No --build needed: docker-compose.yml's pull_policy builds the vidmesh image at every up.
compose-up: compose-env
	docker compose up $(ARGS)

compose-down:
	docker compose down $(ARGS)

compose-logs:
	docker compose logs $(ARGS)
