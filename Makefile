# zerog's developer commands; CI runs the same targets (.ci/run calls `make test`).
# `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_URL ?= sqlite:///build/bench/drain.db
BENCH_JOBS ?= 10000
BENCH_RUNS ?= 3

.DEFAULT_GOAL := help
.PHONY: help venv deps demo test lint bench chaos clean

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
# chromium for the dashboard tests (Playwright drives it; it never downloads a browser of its own).
deps: ## install system packages the tests need (beanstalkd, redis-server, chromium)
	command -v beanstalkd || (apt-get update && apt-get install -y beanstalkd)
	command -v redis-server || (apt-get update && apt-get install -y redis-server)
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

demo: venv ## run the quickstart: example long jobs with live progress
	$(BIN)/zerog demo

test: venv deps ## run the whole test suite (slow tests included)
	$(BIN)/pytest

lint: venv ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: venv ## enqueue and drain rates on SQLite, next to the raw SQLite floor
	$(BIN)/python bench/drain.py --url $(BENCH_URL) --jobs $(BENCH_JOBS) --runs $(BENCH_RUNS)

chaos: venv ## the chaos test with 10,000 jobs: children SIGKILLed at random, nothing lost
	CHAOS_JOBS=10000 $(BIN)/pytest tests/reliability/test_chaos.py -q -s -p no:cacheprovider

clean: ## remove caches and build output (keeps .venv)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
