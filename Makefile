# Two commands matter: `make run` (seeded demo on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := app/web/static/vendor
export FLASK_APP := app:create_app

.PHONY: run test test-browser install vendor bench lint clean-db

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "需要 Python 3.11 或更高版本（PYTHON=$(PYTHON)）"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# htmx for the pages, from the npm registry; node_modules/ and the copy are ignored by git.
$(VENDOR)/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js

vendor: $(VENDOR)/htmx.min.js

run: $(STAMP) vendor
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	SWEEP_THREAD=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

# One pytest worker per core, each on its own database (tests/conftest.py); PYTEST_WORKERS=0 runs in-process.
PYTEST_WORKERS ?= auto
# The browser tests (tests/browser) run with the rest; a failing one leaves its screenshots in test-artifacts/.
test: $(STAMP) vendor
	rm -rf test-artifacts/screenshots
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-browser: $(STAMP) vendor
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/browser $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python scripts/bench/engine_step.py
	$(BIN)/python scripts/bench/payment_flow.py
	$(BIN)/python scripts/bench/timers.py
	$(BIN)/python scripts/bench/login_timing.py
	$(BIN)/python scripts/bench/pickers.py

lint: $(STAMP)
	$(BIN)/python -m ruff check app tests scripts

clean-db:
	rm -f instance/township.db instance/township.db-wal instance/township.db-shm
