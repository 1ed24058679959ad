# One entry point for people and CI: `make run` starts the app, `make test` runs every check.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install index run test lint format browser-deps clean-index

install: $(STAMP)

# torch is installed first and pinned (constraints.txt): an unpinned torch pulls GBs of CUDA.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e ".[model,dev]"
	touch $(STAMP)

index: install
	$(VENV)/bin/assistant index

run: index
	$(VENV)/bin/streamlit run streamlit_app.py --server.headless true

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(PY) -m pytest

# Headless Chromium for the real-browser test (Debian packages; no browser download).
browser-deps:
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

clean-index:
	rm -rf index
