# One entry point for people and CI: `make run` starts the app, `make test` runs every check.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install index run test lint format browser-deps clean-index

install: $(STAMP)

# llama-cpp-python ships as source only, and llama.cpp compiles for the building machine's own
# CPU (-march=native): fast (AVX-512 halves the time to first token where the CPU has it), but a
# wheel built on one machine dies with "Illegal instruction" on a CPU without those instructions.
# So the wheel is built here, once per CPU: it is kept in a folder named for the llama.cpp version
# and a digest of this CPU's instruction-set flags, and installed from that file before the
# project, so no wheel from pip's cache or a local package index (built for another CPU) takes
# its place. Without /proc/cpuinfo the build is portable (no -march=native).
LLAMA_VERSION := 0.3.36
CPU_FLAGS := $(shell grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null)
ifneq ($(strip $(CPU_FLAGS)),)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=ON
LLAMA_FLAVOUR := native-$(shell echo '$(CPU_FLAGS)' | sha256sum | cut -c1-12)
else
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF
LLAMA_FLAVOUR := portable
endif
LLAMA_WHEELS := $(HOME)/.cache/local-assistant/wheels/llama-cpp-python-$(LLAMA_VERSION)-$(shell uname -m)-$(LLAMA_FLAVOUR)

# torch is installed first and pinned (constraints.txt): an unpinned torch pulls GBs of CUDA.
$(STAMP): pyproject.toml constraints.txt Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt torch==2.13.0
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --quiet --no-deps --no-cache-dir \
		--no-binary llama-cpp-python -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(PIP) install --quiet --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
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
