"""Hypothesis profiles for nnlaws, and the audit plugin.

Choose a profile with Hypothesis's own option: ``pytest --hypothesis-profile=ci``.

* ``dev`` (default): 100 examples, random, remembers failures in ``.hypothesis/``.
* ``ci``: derandomized (the same examples every run, so CI cannot flake), no example
  database, 200 examples per property.
* ``thorough``: 2000 examples per property, random; for hunting rare counterexamples.
* ``catalogue``: what the catalogue test uses to ask "does some property reject this
  wrong implementation?": derandomized, and without the shrink phase, because only
  pass/fail matters there and shrinking is where failing runs spend their time.

No profile has a deadline: reference code on a shared 2-core machine has slow first
calls (imports, BLAS warm-up), and a timing-dependent failure would be a flaky test.
"""

from hypothesis import Phase, settings

pytest_plugins = ["properties.audit"]

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=200, derandomize=True, database=None, deadline=None, print_blob=True
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.register_profile(
    "catalogue",
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.load_profile("dev")
