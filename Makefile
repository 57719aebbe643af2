# Medical Image Processing in Python — two commands on a fresh machine:
#   make lab    set up .venv, build the data, open JupyterLab on notebooks/
#   make test   set up .venv, build the data, run every test (unit, hygiene, nbval)
# Also: make setup | data | check | bench | handouts | site | test-browser | clean.
# Variables: PYTHON, HOST, PORT, LAB_ARGS, PYTEST_ARGS.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8888
# Extra JupyterLab options; set LAB_ARGS= to let it open a browser.
LAB_ARGS ?= --no-browser
PYTEST_ARGS ?=

BIN    := $(VENV)/bin
# JupyterLab refuses to run as root (containers, CI) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
STAMP  := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1
# Same numbers on every machine: one BLAS/OpenMP thread in notebooks and tests.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: setup data lab test test-browser check bench handouts site clean help

help:
	@sed -n '1,6p' Makefile

# Reinstall only when the pins or the package metadata change.
$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "The pins are for Python 3.11; run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==26.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

setup: $(STAMP)

data: setup
	$(BIN)/python fetch_data.py

lab: data
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=$(HOST) --port=$(PORT) $(ALLOW_ROOT) $(LAB_ARGS)

# Every deprecation warning, also one raised inside a library, reaches the notebooks'
# stderr, where nbval sees it and fails the cell; in unit tests pyproject.toml makes
# them errors.
STRICT_WARNINGS := always::DeprecationWarning,always::FutureWarning,always::PendingDeprecationWarning

test: data
	PYTHONWARNINGS=$(STRICT_WARNINGS) $(BIN)/python -m pytest --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg $(PYTEST_ARGS)

bench: data
	$(BIN)/python -m medimg.bench

# Is this machine ready for the workshop? One line per problem with its fix; exit 1 if any.
check: setup
	$(BIN)/python -m medimg.checks

# JupyterLab in headless Chromium: Run All in every notebook, move every slider.
# (make test runs these too; this target runs them alone.)
test-browser: data
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# Learner notebooks without solutions, outputs cleared, in handouts/.
handouts: setup
	$(BIN)/python -m medimg.handouts notebooks handouts

# A static HTML site of the executed notebooks in site/.
site: setup
	$(BIN)/python -m medimg.site notebooks site

clean:
	rm -rf $(VENV) notebooks/output handouts site tests/browser/shots
	find data -mindepth 1 -maxdepth 1 ! -name README.md ! -name .gitignore -exec rm -rf {} +
	find . -name __pycache__ -prune -exec rm -rf {} +
