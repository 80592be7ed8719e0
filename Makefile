# netsnap developer commands. Everything installs itself into .venv on first use.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test lint typecheck unit demo bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check netsnap rules tests bench

typecheck: $(STAMP)
	$(BIN)/mypy netsnap rules bench tests

unit: $(STAMP)
	$(BIN)/pytest -q -n 2 -p no:cacheprovider

## make test: ruff, mypy --strict and the whole pytest suite (namespace and Chromium tests included)
test: lint typecheck unit

## make demo: analyze the bundled example (incident A: master + node1 + the master's security group)
demo: $(STAMP)
	$(BIN)/netsnap analyze fixtures/incident-a/master fixtures/incident-a/node1 \
		--security-group master=fixtures/incident-a/sg-master.json \
		--fail-on none
	$(BIN)/netsnap analyze fixtures/incident-a/master fixtures/incident-a/node1 \
		--security-group master=fixtures/incident-a/sg-master.json \
		--format html -o demo-report.html --fail-on none --quiet
	@echo "HTML report: demo-report.html"

## make bench: parse and trace benchmarks; insights-core (the baseline) lives only in bench/.venv
BENCH_STAMP := bench/.venv/.installed-stamp
$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv bench/.venv
	bench/.venv/bin/python -m pip install -q --upgrade pip
	bench/.venv/bin/python -m pip install -q -e . insights-core
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bench/.venv/bin/python bench/run.py

## make docs: regenerate docs/rules.md from the rules and docs/sosreport.md from the sos names of netsnap/sources.py
docs: $(STAMP)
	$(BIN)/python -m netsnap.source_docs
	$(BIN)/netsnap rules docs > docs/rules.md
	$(BIN)/python -m netsnap.bundle.sos_doc > docs/sosreport.md

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
