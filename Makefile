# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
KOUBEI := $(VENV)/bin/koubei
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501

.PHONY: setup browser postgres run test bench demo-sources lint clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==0.13.9
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -r requirements.lock
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium and a CJK font for the browser tests (never `playwright install`).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wqy; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi
	@test -x /usr/bin/chromium || { echo "chromium could not be installed: browser tests cannot run" >&2; exit 1; }

# Debian's postgresql for the tests of the lake backend (tests/postgres.py starts a throw-away
# cluster per test session; the Debian package's own cluster is not used).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "postgresql could not be installed: lake tests cannot run" >&2; exit 1; }

run: setup
	$(KOUBEI) seed
	$(KOUBEI) dashboard --port $(PORT)

# --durations: CI logs name the slowest tests, so the ~10-minute budget can be kept honest.
test: setup browser postgres
	$(PY) -m pytest -n 2 --dist loadgroup --durations=25 --durations-min=10

# `make bench` runs every benchmarks/bench_*.py; `make bench scale` (names after bench) only those.
BENCH_NAMES := $(patsubst benchmarks/bench_%.py,%,$(wildcard benchmarks/bench_*.py))
BENCHES := $(filter $(BENCH_NAMES),$(MAKECMDGOALS))

bench: setup postgres
	$(PY) -m benchmarks $(BENCHES)

ifneq ($(filter bench,$(MAKECMDGOALS)),)
$(BENCHES):
	@:
endif

demo-sources: setup
	$(KOUBEI) demo-sources

# What CI checks before the tests: lint, formatting, types (strict on storage/, collectors/, koubei/).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) data/koubei.duckdb data/koubei.duckdb.wal tests/artifacts
