# maxtrio — every set-up step lives here, so a fresh clone needs only Python 3.11, git and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SOURCES := src tests benchmarks $(wildcard launcher)
# Examples per property test under `make fuzz` where `make test` runs 100 (tests/conftest.py).
FUZZ_EXAMPLES ?= 5000

.PHONY: help venv test fuzz check lint format demo bench pyz clean

help:
	@echo "make demo   - set up .venv and run the main job on an embedded default"
	@echo "make test   - set up .venv and run the whole test suite (deterministic)"
	@echo "make fuzz   - the property tests with random examples, 50x as many (FUZZ_EXAMPLES=5000)"
	@echo "make check  - ruff, ruff format --check, mypy --strict on src/, import-linter"
	@echo "make bench  - run every benchmark in benchmarks/ (prints JSON lines)"
	@echo "make pyz    - build dist/max.pyz, the single-file max (shiv; any Python >= 3.11)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The `ci` Hypothesis profile: every run draws the same examples (tests/conftest.py).
test: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest

# The same properties (the tests Hypothesis marks `hypothesis`), random examples, many more.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -m hypothesis

check: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

demo: $(STAMP)
	$(BIN)/python -m maxtrio.cli.demo

bench: $(STAMP)
	@set -e; for f in benchmarks/*.py; do echo "# $$f" >&2; $(BIN)/python $$f; done

pyz: $(STAMP)
	$(BIN)/python launcher/build_pyz.py -o dist/max.pyz

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info
