# Two commands do all the set-up on a fresh machine:
#   make demo   — create .venv, install, run the main job (a six-task length-generalization experiment)
#   make test   — create .venv, install, run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0   # the CPU build (see README)
	$(PY) -m pip install -q -e '.[dev,torch,plot]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rasp experiment --suite demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) benchmarks/interpreter.py
	$(PY) benchmarks/compiler.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
