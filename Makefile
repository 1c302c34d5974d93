# Set-up and everyday commands. `make test` and `make demo` work on a fresh machine:
# they create .venv with Python 3.10 (python3.10 on PATH, else pyenv's newest 3.10.x;
# override with PYTHON=/path/to/python), install neurosim editable with its dev extra,
# then run the tests or the main example.

VENV ?= .venv
PY := $(VENV)/bin/python
# A candidate counts only if it runs and reports 3.10 (pyenv shims may exist and fail).
PYTHON ?= $(shell for c in "$$(command -v python3.10)" $$(ls -d $$HOME/.pyenv/versions/3.10.*/bin/python 2>/dev/null | sort -rV); do \
	[ -n "$$c" ] && "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo "$$c"; break; }; done)
# Lava (the loihi extra) needs numpy<2 on Python 3.10; the core is tested on numpy 2 by .ci/run.
CONSTRAINTS ?= numpy<2

.PHONY: venv test demo bench clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.10 found: install one (e.g. pyenv install 3.10) or pass PYTHON=..."; exit 1; }
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	echo "$(CONSTRAINTS)" > $(VENV)/constraints.txt
	$(PY) -m pip install -q -c $(VENV)/constraints.txt -e ".[dev]"
	touch $@

# PyNN's system-test scenarios (tests/test_pynn_scenarios.py runs them against neurosim.pynn)
# ship only in its source distribution: fetched with pip from the package registry and
# unpacked to $(VENV)/pynn-src/pynn-$(PYNN_VERSION)/test/system/scenarios (once per venv).
PYNN_VERSION := 0.13.0
$(VENV)/pynn-src/.unpacked: | $(VENV)/.installed
	rm -rf $(VENV)/pynn-sdist $(VENV)/pynn-src
	$(PY) -m pip download -q "PyNN==$(PYNN_VERSION)" --no-deps --no-binary :all: -d $(VENV)/pynn-sdist
	mkdir -p $(VENV)/pynn-src
	tar -xzf $(VENV)/pynn-sdist/pynn-$(PYNN_VERSION).tar.gz -C $(VENV)/pynn-src
	test -f $(VENV)/pynn-src/pynn-$(PYNN_VERSION)/test/system/scenarios/fixtures.py
	touch $@

# Compile the Quick start's kernels into Numba's cache now (once per environment, again
# after the engine's sources change), so that the first run of the Quick start loads them.
$(VENV)/.warm: $(VENV)/.installed $(wildcard neurosim/engine/*.py) neurosim/_config.py
	$(PY) -m neurosim.warmup quickstart layers
	touch $@

venv: $(VENV)/.installed $(VENV)/.warm

test: venv $(VENV)/pynn-src/.unpacked
	$(PY) -m pytest -q

demo: venv
	MPLBACKEND=Agg $(PY) examples/demo.py --out out

bench: venv
	$(PY) benchmarks/run_suite.py --quick --out out/bench
	MPLBACKEND=Agg $(PY) benchmarks/energy_vs_ann.py --quick --out out/bench
	$(PY) benchmarks/crossbar.py --quick --out out/bench
	MPLBACKEND=Agg $(PY) benchmarks/energy_events.py --quick --out out/bench
	$(PY) benchmarks/mpi_scaling.py --quick --out out/bench

clean:
	rm -rf $(VENV) out .pytest_cache
