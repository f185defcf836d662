# hwcost: two commands on a fresh machine with Python 3.11+:
#   make report   execute every notebook with its defaults and write reports/ (HTML, offline)
#   make test     run the whole suite (unit tests, notebook checks, report rendering)
# Both create .venv with pip from pyproject.toml on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.hwcost-installed
# Pytest workers: notebooks execute in separate kernels, so two workers use both cores.
WORKERS ?= 2

.PHONY: report test lint unit notebooks bench clean help

help:
	@echo "make report  - execute all notebooks with their defaults into reports/ (index.html)"
	@echo "make test    - lint (ruff) and run the whole test suite"
	@echo "make bench   - run the speed benchmarks and print their figures"
	@echo "make clean   - remove .venv and reports/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hwcost needs Python 3.11 or newer; found " + sys.version.split()[0] + " (set PYTHON=python3.x)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,pinned]"
	@touch $(STAMP)

report: $(STAMP)
	$(BIN)/hwcost report

lint: $(STAMP)
	$(BIN)/ruff check hwcost tests notebooks

test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope --no-loadscope-reorder \
		--nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		tests notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) tests -m "not notebooks and not browser"

bench: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_perf_sweep.py
	$(BIN)/python tests/benchmarks/bench_serving.py
	$(BIN)/python tests/benchmarks/bench_recommend.py
	$(BIN)/python tests/benchmarks/bench_calibration.py

clean:
	rm -rf $(VENV) reports

# Re-execute the committed notebooks in place with their defaults (after changing hwcost/ or
# data/), so that what GitHub shows and what nbval compares stay current.
refresh: $(STAMP)
	$(BIN)/python -c 'import sys; from hwcost import report; [report.refresh(p) for p in (report.resolve_notebook(n) for n in sys.argv[1:]) or report.notebooks()]' $(NB)
