# The two commands of the README: `make demo` (set up + main job), `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test devset bench clean

setup: $(VENV)/.installed

# llama-cpp-python compiles llama.cpp from source (minutes); pip caches the wheel after.
export CMAKE_ARGS ?= -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_OPENMP=OFF

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Main job: check a shipped file of confused answers; findings (exit 1) are the point.
demo: setup
	$(VENV)/bin/langlock check examples/confused_answers.jsonl; test $$? -le 1

test: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(PY) -m pytest -q --doctest-modules src tests

devset: setup
	$(VENV)/bin/langlock devset

bench: setup
	$(PY) benchmarks/check_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
