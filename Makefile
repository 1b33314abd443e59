# zerog's developer commands; CI runs the same targets (.ci/run calls `make test`).
# `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_URL ?= sqlite:///build/bench/drain.db
BENCH_JOBS ?= 10000
BENCH_RUNS ?= 3
# The suite runs in TEST_WORKERS processes (pytest-xdist), a test module to a process: most
# tests wait on worker processes and servers, so three share two cores well.
TEST_WORKERS ?= 3

.DEFAULT_GOAL := help
.PHONY: help venv deps demo test lint bench bench-peers chaos clean

help: ## list the targets
	@grep -E '^[a-z][a-z_-]*:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'

# The stamp makes `make venv` idempotent; editing pyproject.toml or this file reinstalls.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pip install --quiet -e '.[dev,beanstalk,cron,postgres,redis]'
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install zerog with its dev tools (once)

# System packages the tests need (Debian's; run as root): beanstalkd for the beanstalk backend,
# redis-server for the redis backend (the tests start their own, never the one on 6379),
# chromium for the dashboard tests (Playwright drives it; it never downloads a browser of its own),
# a PostgreSQL server: the one on 127.0.0.1:5432 if it lets us in, else a cluster of the tests'
# own (tools/test-postgres.sh installs Debian's package if need be and starts it), and promtool
# (Debian's prometheus) to check the alert rules in contrib/.
deps: ## install what the tests need: beanstalkd, redis-server, chromium, PostgreSQL, promtool (root)
	command -v beanstalkd || (apt-get update && apt-get install -y beanstalkd)
	command -v redis-server || (apt-get update && apt-get install -y redis-server)
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	command -v promtool || (apt-get update && apt-get install -y --no-install-recommends prometheus)
	bash tools/test-postgres.sh

# The demo has a venv of its own with zerog alone (no extras, no dev tools): `zerog demo` needs
# only the core dependencies (SQLite, rich, tornado), so a first try installs ~50 MB, not ~400.
# tests/docs/test_makefile.py checks that this target never installs the dev extra.
DEMO_VENV := build/demo-venv
DEMO_STAMP := $(DEMO_VENV)/.installed

$(DEMO_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install --quiet -e .
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP) ## run the quickstart: example long jobs with live progress (zerog alone)
	$(DEMO_VENV)/bin/zerog demo

test: venv deps ## run the whole test suite (slow tests included)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: venv ## ruff check, ruff format --check, mypy, lint-imports (the layers)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: venv ## enqueue and drain rates on SQLite, next to the raw SQLite floor
	$(BIN)/python bench/drain.py --url $(BENCH_URL) --jobs $(BENCH_JOBS) --runs $(BENCH_RUNS)

# The peer suite has its own venv (the peers' pins must not reach the project's .venv); the
# stamp reinstalls when the pins or pyproject.toml change. BENCH_PEERS_ARGS: e.g.
# `make bench-peers BENCH_PEERS_ARGS="--only zerog-sqlite,huey-sqlite --workloads W2"`.
PEERS_VENV := build/bench-peers-venv
PEERS_STAMP := $(PEERS_VENV)/.installed
BENCH_PEERS_ARGS ?= --runs 3

$(PEERS_STAMP): bench/peers/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet -r bench/peers/requirements.txt \
		-e '.[postgres,beanstalk,cron,redis]'
	touch $(PEERS_STAMP)

bench-peers: $(PEERS_STAMP) ## zerog beside rq, dramatiq, huey, celery, arq, procrastinate, pgqueuer
	command -v beanstalkd && command -v redis-server \
		|| (apt-get update && apt-get install -y beanstalkd redis-server)
	$(PEERS_VENV)/bin/python bench/peers/run.py $(BENCH_PEERS_ARGS)

chaos: venv ## the chaos test with 10,000 jobs: children SIGKILLed at random, nothing lost
	CHAOS_JOBS=10000 $(BIN)/pytest tests/reliability/test_chaos.py -q -s -p no:cacheprovider

clean: ## remove caches and build output (keeps .venv)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
