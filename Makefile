# Two commands: `make demo` sets up and runs the main job on sample data; `make test` sets up and
# runs the whole suite. Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STORE ?= data/workbench.duckdb
CUSTOMERS ?= 20000
PORT ?= 8866
DASHBOARD ?= yes
PYTEST_ARGS ?=
# Both cores: tests/_xdist.py keeps each folder's shared fixtures on one worker. Serial:
# make test PYTEST_JOBS=
PYTEST_JOBS ?= -n 2 --dist loadgroup

.PHONY: demo test venv venv-test browser-deps java-deps lint bench clean help
.DEFAULT_GOAL := help

help:
	@echo "make demo   - set up .venv, write sample shop data into $(STORE) (if empty), show next steps"
	@echo "make test   - set up .venv with test extras and run the whole test suite"
	@echo "make lint   - ruff on the package and tests"
	@echo "make bench  - run the benchmarks in benchmarks/ (slow)"

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

demo: venv
	$(BIN)/workbench sample --if-empty --customers $(CUSTOMERS) --store $(STORE)
	@$(BIN)/workbench info --store $(STORE)
	$(BIN)/workbench report weekly --store $(STORE) --out reports
	@echo
	@echo "Store:     $(STORE)"
	@echo "Report:    $(CURDIR)/reports/index.html"
	@echo "Next:"
	@echo "  source $(BIN)/activate"
	@echo "  workbench --help                                  # every command"
	@echo "  workbench load orders data/cdnow/CDNOW_master.txt --mapping cdnow --store data/cdnow.duckdb"
	@echo "  jupyter lab                                       # then: import workbench as wb"
	@if [ "$(DASHBOARD)" = "yes" ]; then $(BIN)/workbench dashboard --store $(STORE) --port $(PORT); fi

# Browser tests drive Debian's Chromium (never a downloaded browser); Korean fonts make Hangul
# visible in screenshots. Installed once, when missing (needs root, as on CI).
browser-deps:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=ko | grep -q . || { \
	  echo "installing chromium and fonts-nanum for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum >/dev/null; }

test: venv-test browser-deps java-deps
	$(BIN)/python -m pytest $(PYTEST_JOBS) $(PYTEST_ARGS)

lint: venv-test
	$(BIN)/ruff check workbench tests benchmarks

bench: venv
	$(BIN)/python benchmarks/bench_sample.py --customers 100000
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# The Spark parity tests run a local Spark (pyspark from the `spark` extra) on Java 17.
java-deps:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing openjdk-17-jre-headless for the Spark tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

