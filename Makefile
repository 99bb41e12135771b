# critmin: `make run` starts the platform, `make test` runs the checks. Both create .venv on first use:
# `make run` installs critmin with its runtime dependencies only; `make test` adds the `dev` extra
# (pytest, ruff, mypy, Playwright, Pyomo, schemathesis) and checks for Debian's Chromium first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
CHROMIUM_CMD := sudo apt-get install -y chromium

.PHONY: run test lint bench build-data clean

# `make test` drives Debian's Chromium in the browser tests. When it is missing, install it with apt-get if
# this user can (root, or password-less sudo); otherwise stop before anything else with the command to run.
CAN_APT = $(shell command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u 2>/dev/null)" = 0 ] && echo root \
  || { sudo -n true 2>/dev/null && echo sudo; }; })
HAVE_CHROMIUM = $(shell [ -x $(CHROMIUM) ] && echo yes)
ifneq ($(filter test,$(MAKECMDGOALS)),)
ifneq ($(HAVE_CHROMIUM),yes)
ifneq ($(CAN_APT),)
$(info make test: installing Debian's chromium for the browser tests (apt-get install -y chromium))
_APT := $(if $(filter sudo,$(CAN_APT)),sudo -n,)
_ := $(shell $(_APT) apt-get update -qq >/dev/null 2>&1; \
  $(_APT) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1)
endif
ifneq ($(HAVE_CHROMIUM),yes)
$(error make test needs Chromium at $(CHROMIUM) for the browser tests; run: $(CHROMIUM_CMD))
endif
endif
endif

$(BIN)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed-run
	$(BIN)/critmin serve

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# PostgreSQL is tested when the local server answers (127.0.0.1:5432, database test) or when
# CRITMIN_TEST_DATABASE_URL names one; the summary says which database backends were tested.
test: lint
	$(BIN)/pytest

bench: $(BIN)/.installed-dev
	$(BIN)/python benchmarks/run_all.py

build-data: $(BIN)/.installed-run
	$(BIN)/python -m critmin.data.build

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
