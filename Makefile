# Two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit demo bench clean

$(STAMP): setup.py pyproject.toml
	@command -v java >/dev/null 2>&1 || { echo "Java 17 is required for Spark: install a JDK 17 (for example 'apt-get install openjdk-17-jdk-headless')."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check lib tests jobs
	$(BIN)/ruff format --check lib tests jobs

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit tests/emulator

demo: $(STAMP)
	$(BIN)/cdf-replicator demo

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info lib/*.egg-info .pytest_cache .mypy_cache .ruff_cache
