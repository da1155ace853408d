# Two commands do all the set-up on a fresh machine:
#   make demo   — create .venv, install, run the main job (a six-task length-generalization experiment)
#   make test   — create .venv, install, run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-zhou lint bench clean

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

# every ✓ program of Zhou et al.'s suite on 1,000 random examples at every test length (slow: ~3 min)
test-zhou: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m slow tests/test_zhou.py

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) benchmarks/interpreter.py
	$(PY) benchmarks/compiler.py
	$(PY) benchmarks/training.py

# Ours beside Tracr 1.0.0 on Tracr's library programs; Tracr lives in its own venv (never in $(VENV)).
TRACR_VENV ?= .venv-tracr
TRACR_PINS := tracr-pypi==1.0.0 jax==0.10.2 jaxlib==0.10.2 dm-haiku==0.0.17 chex==0.1.92 numpy==2.4.6 \
	einops==0.8.2 networkx==3.6.1 ml_dtypes==0.6.0
TRACR_STAMP := $(TRACR_VENV)/.installed

$(TRACR_STAMP):
	test -x $(TRACR_VENV)/bin/python || python3 -m venv $(TRACR_VENV)
	$(TRACR_VENV)/bin/python -m pip install -q $(TRACR_PINS)
	touch $(TRACR_STAMP)

.PHONY: bench-tracr
bench-tracr: $(STAMP) $(TRACR_STAMP)
	$(PY) benchmarks/compiler.py --max-len 10 32 --n 200 --tracr-python $(TRACR_VENV)/bin/python

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
