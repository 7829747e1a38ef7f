# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip on some machines warns about absent local indexes; keep real errors, drop that noise.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

export MULTIACCOUNT_HOME ?= $(CURDIR)/var
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test test-slow test-all bench install stack stack-stop clean

$(STAMP): requirements-lock.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned lock into $(VENV) (first run: about a minute)..."
	$(PY) -m pip install -q --upgrade pip $(QUIET_PIP)
	$(PY) -m pip install -q -r requirements-lock.txt $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -e . $(QUIET_PIP)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

# Everything but the slow, browser and Airflow-stack tests: the inner loop, under 10 minutes on 2 cores.
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "not slow and not browser and not stack"

# The slow rest: dag.test() runs, the reduced demo, headless Chromium, the CeleryExecutor stack.
test-slow: $(STAMP)
	bash scripts/ensure_browser.sh
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "slow or browser or stack"

test-all: test test-slow

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) var

# The production stack (CeleryExecutor) as processes against the local PostgreSQL and Redis.
stack: $(STAMP)
	$(PY) scripts/stack.py up --with-serve --with-dashboard

stack-stop:
	$(PY) scripts/stack.py down
