# The two Quickstart commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install trustctl and run the main job on the shipped sample data.
demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	$(BIN)/trustctl generate sample_data/ --rules policies/rules.yaml -o policy.yaml

# Install the test dependencies, then lint, type-check and run the whole test suite.
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/ruff check trustctl tests
	$(BIN)/ruff format --check trustctl tests
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadfile

# Fuzz every reader much longer than `make test` does, with a fresh seed each run (issue 9);
# a failure prints the input that broke it. More: make fuzz FUZZ_EXAMPLES=20000.
FUZZ_EXAMPLES ?= 2000
.PHONY: fuzz
fuzz: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	TRUSTCTL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TRUSTCTL_FUZZ_RANDOM=1 $(BIN)/pytest -p no:cacheprovider tests/test_fuzz.py

# Time trustctl against DuckDB and polars on generated 1M- and 10M-row logs (issue 3); the logs
# are cached in benchmarks/data/. Quicker: make bench BENCH_ARGS='--sizes 1M --runs 3'.
.PHONY: bench
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Build a wheel and an sdist (dist/), install the wheel into a fresh virtualenv and run the
# main job on the shipped sample with it.
.PHONY: dist-check
dist-check: $(BIN)/python
	$(BIN)/python -m pip install --quiet build
	rm -rf dist .dist-venv
	$(BIN)/python -m build --outdir dist .
	$(PYTHON) -m venv .dist-venv
	.dist-venv/bin/python -m pip install --quiet dist/*.whl
	.dist-venv/bin/trustctl generate sample_data/ --format table
	rm -rf .dist-venv
