# The two commands: `make run` sets everything up and serves the app; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test install install-dev seed bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(PY) -m sms_core migrate
	$(PY) -m sms_core seed-demo
	SMS_DEMO_TRAFFIC=$${SMS_DEMO_TRAFFIC:-6} $(PY) -m sms_core serve --port $(PORT)

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

seed: install
	$(PY) -m sms_core seed-demo --messages $(or $(MESSAGES),3000)

# Seed PostgreSQL (BENCH_ADMIN_URL, default the local server) with BENCH_ROWS messages, measure
# against a naive baseline and write BENCHMARKS.md; see bench/__main__.py.
bench: install
	BENCH_ROWS=$(or $(BENCH_ROWS),1000000) $(PY) -m bench

clean:
	rm -rf $(VENV) data/*.db data/*.db-wal data/*.db-shm .pytest_cache
