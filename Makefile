# The two commands of the README, and their set-up.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test lint

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[serve,mqtt,privacy,federated,scale,edge,nl,dev]"

install: $(PY)

demo: $(PY)
	$(VENV)/bin/geniot demo --serve

test: $(PY)
	$(PY) -m pytest -q -p no:cacheprovider

lint: $(PY)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check src tests benchmarks
