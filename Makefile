# The two entry points of the README: `make run` and `make test`.
# Each builds its own virtual environment from this project's files.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The torch build installed before the project. The default pins a release so
# that a fresh machine gets a known build; CUDA users may pass another, e.g.
#   make run TORCH="torch --index-url https://download.pytorch.org/whl/cu124"
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Prepare the corpus and train a model when they are missing, then start the bot.
run: install
	$(PY) -m bot --prepare

test: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
