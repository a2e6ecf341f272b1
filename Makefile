# One obvious way to run everything: `make run`, `make test`, `make bench`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_TORCH := $(VENV)/.installed-torch
STAMP_SERVE := $(VENV)/.installed-serve
STAMP_BROWSER := $(VENV)/.installed-browser
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run quiz serve test test-torch test-browser lint format bench bench-quick bench-serve train clean

# pip is quiet: say what the wait is for (about 15 s on a fresh clone, once).
$(BIN)/python:
	@echo "make: creating the virtual environment in $(VENV) (first run only)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	@echo "make: installing micrograd-tui and its dependencies into $(VENV) (first run only)..."
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	@echo "make: installing micrograd-tui with its test tools into $(VENV) (first run only)..."
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

# PyTorch is large: only `make test-torch` installs it (the `torch` extra), never `make test`.
$(STAMP_TORCH): pyproject.toml $(STAMP_TEST)
	@echo "make: installing PyTorch into $(VENV) (large: a minute or more)..."
	$(BIN)/python -m pip install --quiet -e '.[test,torch]'
	touch $@

$(STAMP_SERVE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[serve]'
	touch $@ $(STAMP_RUN)

# playwright drives the system's chromium (apt-get as root); it never downloads a browser.
$(STAMP_BROWSER): pyproject.toml $(STAMP_TEST)
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	$(BIN)/python -m pip install --quiet -e '.[test,browser]'
	touch $@

run: $(STAMP_RUN)
	$(BIN)/micrograd-tui $(ARGS)

# The dashboard in a browser: make serve [PORT=8000] [HOST=127.0.0.1] [ARGS="--dataset moons"]
serve: $(STAMP_SERVE)
	$(BIN)/micrograd-tui serve --host $(HOST) --port $(PORT) $(ARGS)

# Diagnose it: make quiz [ARGS="--seed 3 --rounds 4"]; ARGS="--answers" prints the key.
quiz: $(STAMP_RUN)
	$(BIN)/micrograd-tui quiz $(ARGS)

train: $(STAMP_RUN)
	$(BIN)/micrograd-tui train $(ARGS)

# Every core runs tests (pytest-xdist): each test owns its app, ports and temp folders.
test: $(STAMP_TEST)
	$(BIN)/python -m pytest -n auto --dist worksteal $(PYTEST_ARGS)

# Exported PyTorch scripts agree with `train --json` (tests marked `torch`).
test-torch: $(STAMP_TORCH)
	MICROGRAD_TUI_REQUIRE_EXTRAS=torch $(BIN)/python -m pytest -m torch $(PYTEST_ARGS)

# The served dashboard in Chromium: keys, downloads, and no app left when the server stops.
test-browser: $(STAMP_BROWSER)
	MICROGRAD_TUI_REQUIRE_EXTRAS=browser $(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP_TEST)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP_TEST)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP_TEST)
	$(BIN)/python -m benchmarks $(ARGS)

# A classroom: 30 tabs in one Chromium against one server (installs chromium and the extra).
bench-serve: $(STAMP_BROWSER)
	$(BIN)/python -m benchmarks.serve $(ARGS)

bench-quick: $(STAMP_TEST)
	$(BIN)/python -m benchmarks --quick $(ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
