"""The theorem report behind ``make report``.

* ``plugin``: a pytest plugin (``-p properties.report.plugin``) that records, per test,
  its outcome, duration, Hypothesis statistics, failure text with the shrunk
  counterexample, and user properties (errata) into ``reports/results.json``.
* ``build``: turns that record, the coverage XML and the pytest-benchmark JSON into
  ``reports/index.html`` (self-contained) and ``reports/summary.md``.
* ``plots``: the matplotlib figures the page embeds.
"""
