# nnlaws: `make test` and `make report` work on a machine with nothing but Python 3.11.
# Both create .venv and (re)install the project with its extras whenever pyproject.toml
# changes, then run. PROFILE selects the Hypothesis profile: ci when CI is set.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?= $(if $(CI),ci,dev)
REPORT_PROFILE ?= dev

.PHONY: test lint report clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest --hypothesis-profile=$(PROFILE) --benchmark-disable

report: $(STAMP)
	mkdir -p reports/coverage reports/benchmarks
	$(PY) -m pytest --hypothesis-profile=$(REPORT_PROFILE) \
		--cov --cov-branch --cov-report=html:reports/coverage/html \
		--cov-report=xml:reports/coverage/coverage.xml --cov-report=term \
		--benchmark-json=reports/benchmarks/benchmarks.json

clean:
	rm -rf $(VENV) reports/coverage reports/benchmarks .hypothesis .pytest_cache
