# `make run` sets everything up and serves the app; `make check` is the quick inner loop of tests;
# `make test` runs every test (what CI runs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
OIDC := tests/oidc

.PHONY: run check test lint soak install install-dev seed bench screenshots clean

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

# The OpenID Connect provider the sign-in tests run (panva's oidc-provider, on the machine's
# Node.js), installed from its lock file; again only when the lock file changes.  Without npm the
# sign-in tests skip and say why (with CI=true they fail).
$(OIDC)/node_modules/.installed: $(OIDC)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(OIDC) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm is not installed: the sign-in tests will skip (and fail with CI=true)"; fi

run: install
	$(PY) -m sms_core migrate
	$(PY) -m sms_core seed-demo
	SMS_DEMO_MODE=true SMS_DEMO_TRAFFIC=$${SMS_DEMO_TRAFFIC:-6} SMS_ALERT_INTERVAL=$${SMS_ALERT_INTERVAL:-20} \
		$(PY) -m sms_core serve --port $(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The inner loop, well under 90 s: unit tests, storage tests on SQLite and the page tests (AppTest).
# Needs no PostgreSQL, Kannel or browser; `make test` runs the rest.
check: lint
	$(PY) -m pytest -m "(unit or storage or pages) and not postgres" $(PYTEST_ARGS)

# Everything: both databases, a real Kannel, headless Chromium, the reliability runs; it ends with
# the 25 slowest tests, so a test that grew slow shows.
test: lint $(OIDC)/node_modules/.installed
	$(PY) -m pytest --durations=25 $(PYTEST_ARGS)

# The long reliability runs (about 15 minutes on two cores): the load test at the issue's 50
# sessions and 20 sends/s for 180 s, the worker-crash and webhook-flood tests at ten times their
# `make test` sizes; figures go to RELIABILITY-soak.md.  Each size can be set from the environment.
soak: install-dev
	RELIABILITY_OUT=$(CURDIR)/RELIABILITY-soak.md \
	RELIABILITY_LOAD_SESSIONS=$(or $(RELIABILITY_LOAD_SESSIONS),50) \
	RELIABILITY_LOAD_SENDS_PER_SECOND=$(or $(RELIABILITY_LOAD_SENDS_PER_SECOND),20) \
	RELIABILITY_LOAD_SECONDS=$(or $(RELIABILITY_LOAD_SECONDS),180) \
	RELIABILITY_LOAD_HISTORY=$(or $(RELIABILITY_LOAD_HISTORY),200000) \
	RELIABILITY_KILLS=$(or $(RELIABILITY_KILLS),1000) \
	RELIABILITY_FLOOD_MESSAGES=$(or $(RELIABILITY_FLOOD_MESSAGES),23000) \
	$(PY) -m pytest tests/reliability/test_reliability_load.py tests/reliability/test_reliability_worker_crashes.py \
		tests/reliability/test_reliability_webhook_flood.py $(PYTEST_ARGS)

seed: install
	$(PY) -m sms_core seed-demo --messages $(or $(MESSAGES),3000)

# Seed PostgreSQL (BENCH_ADMIN_URL, default the local server) with BENCH_ROWS messages, measure
# against a naive baseline and write BENCHMARKS.md; see bench/__main__.py.
bench: install
	BENCH_ROWS=$(or $(BENCH_ROWS),1000000) $(PY) -m bench

# The README's screenshots of Delivery rates and of an alert incident (docs/*.png), taken in
# headless Chromium from the demo served on a throwaway database; see docs/screenshots.py.
screenshots: install-dev
	$(PY) docs/screenshots.py

clean:
	rm -rf $(VENV) data/*.db data/*.db-wal data/*.db-shm .pytest_cache
