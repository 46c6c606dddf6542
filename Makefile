# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment it needs (.venv) and reinstalls when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit clean

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

unit: $(BIN)/.installed-test
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) fikafollow-demo .pytest_cache .mypy_cache .ruff_cache
