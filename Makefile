# maxtrio — every set-up step lives here, so a fresh clone needs only Python 3.11, git and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Exact versions, with hashes, of every package the venv holds (runtime, dev and browse extras);
# `make lock` regenerates it from the ranges in pyproject.toml (docs/dependencies.md).
LOCK   := requirements.lock
PIP    := $(BIN)/python -m pip --disable-pip-version-check
SOURCES := src tests benchmarks $(wildcard launcher)
# Examples per property test under `make fuzz` where `make test` runs 100 (tests/conftest.py).
FUZZ_EXAMPLES ?= 5000

.PHONY: help venv lock test fuzz check lint format demo bench pyz clean postgresql

help:
	@echo "make demo   - set up .venv and run the main job on an embedded default"
	@echo "make test   - set up .venv and run the whole test suite (deterministic)"
	@echo "make fuzz   - the property tests with random examples, 50x as many (FUZZ_EXAMPLES=5000)"
	@echo "make check  - ruff, ruff format --check, mypy --strict on src/, import-linter"
	@echo "make bench  - run every benchmark in benchmarks/ (prints JSON lines)"
	@echo "make pyz    - build dist/max.pyz, the single-file max (shiv; any Python >= 3.11)"
	@echo "make lock   - re-resolve requirements.lock (pinned, hashed) from pyproject.toml"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Everything from the lock file, hashes checked; then the project itself, editable, with no
# dependencies of its own to resolve and no build environment to fetch (setuptools is locked).
# `pip check` catches a lock that no longer satisfies pyproject.toml.
$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@$(PIP) check >/dev/null || { $(PIP) check >&2; \
		echo "Hint: pyproject.toml changed after requirements.lock was made: run make lock" >&2; \
		exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

# Re-resolve the lock: the newest versions within pyproject.toml's ranges, preferring those
# already locked (delete requirements.lock first to move everything forward).
lock: $(BIN)/python
	@$(BIN)/pip-compile --version >/dev/null 2>&1 || $(PIP) install --quiet 'pip-tools>=7.6,<8'
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --extra dev --extra browse \
		-o $(LOCK) pyproject.toml

# The tests of the PostgreSQL store start a throwaway server from Debian's server binaries
# (tests/pg/server.py). Installed here when missing and make runs as root; anyone else is told
# what to install (README.md, "Tests").
postgresql:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; \
	then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing PostgreSQL server binaries for the tests (apt-get install postgresql)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "Error: the tests need PostgreSQL server binaries (initdb, pg_ctl; version >= 15)" >&2; \
		echo "Hint: sudo apt-get install postgresql (or set MAXTRIO_PG_BIN to their directory)" >&2; \
		exit 1; \
	fi

# The `ci` Hypothesis profile: every run draws the same examples (tests/conftest.py).
test: $(STAMP) postgresql
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest

# The same properties (the tests Hypothesis marks `hypothesis`), random examples, many more.
fuzz: $(STAMP) postgresql
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
