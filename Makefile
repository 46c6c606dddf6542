# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment it needs (.venv) and reinstalls when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck audit unit suite services clean

$(BIN)/.installed-app: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(BIN)/.installed-test: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(BIN)/.installed-app

demo: $(BIN)/.installed-app
	$(BIN)/fikafollow demo

lint: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed-test
	$(BIN)/mypy

# pip-audit over the installed pinned dependencies: a known vulnerability fails; advisory data
# out of reach (only a package mirror) is said and does not fail; bounded by a timeout
audit: $(BIN)/.installed-test
	$(BIN)/python scripts/audit.py --timeout 240

# Dovecot and Chromium for the e-mail tests: installed when missing and run as root, else those
# tests skip with the reason (CI sets FIKAFOLLOW_TEST_REQUIRE_SERVICES=1 to make that a failure)
services:
	bash scripts/test-services.sh

# every tier: tests/unit, tests/integration (SQLite and PostgreSQL, loopback servers, a browser)
# and tests/acceptance (the command line and `serve`)
suite: $(BIN)/.installed-test services
	$(BIN)/pytest

# the pure tier alone, in seconds: no database, no server, no subprocess
unit: $(BIN)/.installed-test
	$(BIN)/pytest tests/unit

test: lint typecheck suite

clean:
	rm -rf $(VENV) fikafollow-demo .pytest_cache .mypy_cache .ruff_cache test-artifacts
