# nnlaws: `make test` and `make report` work on a machine with nothing but Python 3.11.
# Both create .venv and (re)install the project with its extras whenever pyproject.toml
# changes, then run. PROFILE selects the Hypothesis profile of `make test` (ci when CI is
# set); REPORT_PROFILE that of `make report` (dev by default: `make report REPORT_PROFILE=ci`).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# one install serves both targets: `report` adds matplotlib, and `make test` runs the
# report builder's own tests too
EXTRAS := dev,report
PROFILE ?= $(if $(CI),ci,dev)
# `make test` spreads test files over WORKERS processes (pytest-xdist, --dist loadfile:
# a file's module fixtures, such as the catalogue's audit batches, run once, in one
# worker). The ci profile is derandomized, so its verdicts do not depend on the worker;
# the dev profile's example database is safe for concurrent use. WORKERS=0: no xdist.
WORKERS ?= 2
XDIST := $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadfile)
REPORT_PROFILE ?= dev
REPORT_OUTPUTS := reports/index.html reports/summary.md reports/results.json reports/junit.xml \
	reports/frameworks.json \
	reports/coverage reports/benchmarks

.PHONY: test lint report seeds mutation clean

# `make test` starts about seventy Python processes (catalogue batches, audits, the CLI,
# the report's fake runs). With PYTHONDONTWRITEBYTECODE set (some CI images set it), each
# recompiles the project and re-rewrites every test module's asserts, about 0.7 s of CPU
# a process; let them cache bytecode in __pycache__ (git-ignored).
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# the framework audits (marker `frameworks`, minutes each) run in `make report` only
test: lint
	$(PY) -m pytest -m "not frameworks" --hypothesis-profile=$(PROFILE) --benchmark-disable $(XDIST)

# Flake-freedom you can rerun: the theorem properties (not the meta tests) under N random
# Hypothesis seeds (dev profile); one line per seed, then `seeds: N run, F failed`.
N ?= 50
seeds: $(STAMP)
	$(PY) -m properties.meta.seeds $(N)

# Mutation score of reference/ (mutmut 3, configured in pyproject.toml [tool.mutmut]):
# each mutant is run, in a fork, against the tests that call the mutated function;
# verdicts are cached in mutants/ (a rerun tests only the functions that changed;
# `rm -rf mutants` for a fresh run). The summary, reports/mutation.json, lists each
# survivor with its written argument (properties/meta/mutation_survivors.py) and fails
# the target when one has none. MUTATION_WORKERS: mutants tested at once.
MUTATION_WORKERS ?= 2
MUTATION_STAMP := $(VENV)/.mutation-stamp
$(MUTATION_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[$(EXTRAS),mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	rm -rf mutants/properties
	$(VENV)/bin/mutmut run --max-children $(MUTATION_WORKERS)
	$(PY) -m properties.meta.mutation_summary

# The report is built whatever the suite's outcome (a failing theorem is what it is for);
# the target then exits with the first failing pytest status, so CI still sees the
# failure. A failure of the builder itself exits with the builder's status. Two runs:
# the suite (every test, benchmarks run once as tests) on WORKERS processes under
# coverage, then the benchmarks alone, timed, in one process (pytest-benchmark does not
# time under xdist, and timings want a core to themselves). junit_family=xunit1 is the
# JUnit flavour that keeps record_property (errata, Hypothesis statistics) in junit.xml.
report: $(STAMP)
	rm -rf $(REPORT_OUTPUTS)
	mkdir -p reports/coverage reports/benchmarks
	status=0; \
	$(PY) -m pytest -p properties.report.plugin --hypothesis-profile=$(REPORT_PROFILE) \
		--benchmark-disable $(XDIST) \
		--cov --cov-branch --cov-report=html:reports/coverage/html \
		--cov-report=xml:reports/coverage/coverage.xml --cov-report=term \
		--junitxml=reports/junit.xml -o junit_family=xunit1 || status=$$?; \
	$(PY) -m pytest benchmarks -q -p no:cacheprovider --benchmark-only \
		--benchmark-json=reports/benchmarks/benchmarks.json \
		|| { s=$$?; [ $$status -ne 0 ] || status=$$s; }; \
	$(PY) -m properties.report.build || exit $$?; \
	echo "make report: pytest exit status $$status; open reports/index.html"; \
	exit $$status

clean:
	rm -rf $(VENV) $(REPORT_OUTPUTS) .hypothesis .pytest_cache mutants reports/mutation.json
