# Switchboard — `make run` starts the whole product, `make test` proves it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser run test lint bench screenshots clean

# torch goes first, pinned, so nothing pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m switchboard.ingestion.embedding prepare $(VENV)/share/switchboard/all-MiniLM-L6-v2-onnx
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium drives the UI tests (Playwright cannot download a browser here); `make run` does not need it.
browser:
	command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

run: install
	$(BIN)/switchboard serve

# Two sessions side by side (pytest-xdist), each with its own embedded servers and worker processes; a test
# file stays in one session. More sessions than two only queue up on a 2-core machine.
TEST_SESSIONS ?= 2
test: install browser
	$(BIN)/pytest -q -n $(TEST_SESSIONS) --dist loadfile

# PNGs of the pages (workflows, approvals, settings, admin console, entry) for the README (real servers, a real worker); not in `make test`.
screenshots: install browser
	$(BIN)/pytest -q tests/web/screenshots.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/queue.py
	$(BIN)/python bench/pacing.py
	$(BIN)/python bench/ingest.py --pages 10
	$(BIN)/python bench/retrieval.py --pages 60 --backends onnx-quantized --no-sweep
	$(BIN)/python bench/search.py --chunks 20000 --real 2000 --queries 100 --rounds 1

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
