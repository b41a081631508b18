# repay: `make run` serves the API on a fresh machine; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# The words shown to people: one gettext catalog per language, its compiled .mo a build artefact.
LOCALE_DIR := app/locale
POT := $(LOCALE_DIR)/messages.pot
PO := $(wildcard $(LOCALE_DIR)/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test test-pg lint format bench examples clean venv postgres chromium messages translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes; installing compiles the catalogs (.po -> .mo).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pybabel compile --domain=messages --directory=$(LOCALE_DIR) --statistics
	touch $(STAMP)

# ... and a catalog edited since is compiled again before the service or the tests run.
$(LOCALE_DIR)/%/LC_MESSAGES/messages.mo: $(LOCALE_DIR)/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile --domain=messages --directory=$(LOCALE_DIR) --locale=$* --statistics

translations: $(MO)

# The engine's hot modules compiled with mypyc beside their sources (tools/build_engine.py),
# again whenever one of those sources changes; without a C compiler it stays plain Python.
ENGINE := $(shell $(PYTHON) tools/build_engine.py --sources)
ENGINE_RECORD := plans/_compiled.sha256

$(ENGINE_RECORD): $(ENGINE) tools/build_engine.py | $(STAMP)
	$(BIN)/python tools/build_engine.py

venv: $(STAMP) $(MO) $(ENGINE_RECORD)

# After changing words in the code or the templates: extract the message ids (babel.cfg) into
# the template catalog and merge them into every language's catalog. A new or changed sentence
# comes back untranslated (never guessed: no fuzzy matching) and the entries no longer used are
# dropped; tests/app/core/test_i18n.py names any left untranslated. See README, "Adding a language".
messages: $(STAMP)
	$(BIN)/pybabel extract --mapping-file=babel.cfg --add-location=file --project=repay \
	  --version=0.1.0 --copyright-holder=repay --output-file=$(POT) .
	$(BIN)/pybabel update --input-file=$(POT) --output-dir=$(LOCALE_DIR) --domain=messages \
	  --ignore-obsolete --no-fuzzy-matching

run: $(STAMP) $(MO) $(ENGINE_RECORD)
	$(BIN)/repay serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict plans schemas app

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The contract's schemathesis module runs in one process: under xdist, schemathesis turns its
# per-operation tests into subtests of one item, and most operations go untested.
test: $(STAMP) $(MO) $(ENGINE_RECORD) lint postgres chromium
	$(BIN)/pytest -q -n 2 --dist loadfile plans schemas app tests \
	  --ignore=tests/app/test_schemathesis.py
	$(BIN)/pytest -q tests/app/test_schemathesis.py

# The contract's stateful schemathesis run (tests/app/test_schemathesis.py) on PostgreSQL too.
test-pg: $(STAMP) $(MO) postgres
	REPAY_SCHEMATHESIS_DATABASE=postgresql $(BIN)/pytest -q tests/app/test_schemathesis.py

# The browser tests drive Debian's chromium through Playwright (never `playwright install`);
# the printed pages' Chinese needs a CJK font (Noto CJK) for the PDF to carry its text.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "installing Debian's Noto CJK fonts for the printed Chinese pages"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }; }

# The storage tests also run on the machine's PostgreSQL (127.0.0.1:5432); start it if it is
# installed but down. Without it they are skipped locally and fail under CI=true.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  { command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start \
	    && sleep 2; } || echo "PostgreSQL is not available on 127.0.0.1:5432"

bench: $(STAMP) $(ENGINE_RECORD)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || true
	$(BIN)/python -m tests.benchmarks

# The OpenAPI response examples (schemas/examples/): the service's answers to the contract's
# own request examples, rewritten in place. Review the diff; an answer that changed changes
# tests/golden/openapi.json too (REPAY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/app/test_openapi.py).
examples: $(STAMP)
	$(BIN)/python -m tests.examples_writer

clean:
	$(PYTHON) tools/build_engine.py --clean
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build
