# Two entry points, each installing what it needs into .venv first (see README).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shieldwall run examples/city-defence.yaml --replications 1000 --seed 2024 --out out/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q
