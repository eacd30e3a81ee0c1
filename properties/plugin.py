"""The nnlaws pytest plugin: the Hypothesis profiles and the audit, wherever nnlaws is installed.

Installing nnlaws (from a wheel, the repository path, or editable) registers this module
with pytest through the ``pytest11`` entry point ``properties.plugin = properties.plugin``,
so that from any directory ::

    pytest --pyargs properties --impl-module mycode --hypothesis-profile=ci

runs the same audit as inside the repository. Inside the repository, the root
``conftest.py`` names this plugin too, so a checkout works without an install.

One registration, whatever the route. pytest registers an entry-point plugin under the
entry point's *name*, and an import through ``-p NAME`` or ``pytest_plugins = ["NAME"]``
is skipped only when a plugin of that *name* is already registered; the same module
registered under two names is an error ("Plugin already registered under a different
name"). So the entry point is named after the module: the entry point, ``conftest.py``
and ``-p properties.plugin`` all resolve to the one name ``properties.plugin``. The
audit hooks come in through ``pytest_plugins`` below under the name
``properties.audit``, the name that ``-p properties.audit`` and older conftests use, so
those routes end in the same single registration too.

Profiles. Choose one with Hypothesis's own option, ``pytest --hypothesis-profile=NAME``:

* ``dev`` (default): 100 examples, random, remembers failures in ``.hypothesis/``.
* ``ci``: derandomized (the same examples every run, so CI cannot flake), no example
  database, 200 examples per property.
* ``thorough``: 2000 examples per property, random; for hunting rare counterexamples.
* ``catalogue``: what the catalogue test uses to ask "does some property reject this
  wrong implementation?": derandomized, and without the shrink phase, because only
  pass/fail matters there and shrinking is where failing runs spend their time.

No profile has a deadline: reference code on a shared 2-core machine has slow first
calls (imports, BLAS warm-up), and a timing-dependent failure would be a flaky test.

Scope. An installed plugin is loaded into every pytest run of its environment, and
these profile names are common (Hypothesis itself has a ``ci`` profile, loaded
automatically on CI services). So the profiles are registered, and ``dev`` loaded, only
in a run of nnlaws: an audit (``--impl`` / ``--impl-module``), or a run whose arguments
name the ``properties`` package (``--pyargs properties[.module]``, or a path inside
the package's directory); inside the repository ``conftest.py`` does it for every run.
Elsewhere the plugin adds only the audit options, the ``uses`` marker and the audit's
header line; ``-p no:properties.plugin`` turns it off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import Phase, settings

# No import of `reference` (nor of `properties.__version__`, which is reference's) at
# module level: an install loads this plugin before pytest-cov starts measuring, and
# `make report` reports the coverage of reference/.

pytest_plugins = ["properties.audit"]

#: the profile a run of nnlaws uses unless ``--hypothesis-profile`` names another
DEFAULT_PROFILE = "dev"

_PACKAGE = Path(__file__).resolve().parent
_NNLAWS_RUN = pytest.StashKey[bool]()


def use_profiles() -> None:
    """Register nnlaws's Hypothesis profiles and load ``dev``.

    Call it before Hypothesis's own ``pytest_configure`` (``conftest.py`` calls it at
    import, this plugin in a ``tryfirst`` ``pytest_configure``): Hypothesis then loads the
    profile named by ``--hypothesis-profile``, if any, over ``dev``.
    """
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
    settings.load_profile(DEFAULT_PROFILE)


def runs_nnlaws(config: pytest.Config) -> bool:
    """Whether this run is an audit or collects the ``properties`` package."""
    if config.getoption("impl", None) or config.getoption("impl_module", None):
        return True
    for arg in config.args:
        target = arg.split("::", 1)[0]
        if config.option.pyargs and (target == "properties" or target.startswith("properties.")):
            return True
        path = Path(config.invocation_params.dir, target).resolve()
        if path == _PACKAGE or _PACKAGE in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)  # before Hypothesis loads --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    """In a run of nnlaws, register the profiles and make ``dev`` the default."""
    config.stash[_NNLAWS_RUN] = runs_nnlaws(config)
    if config.stash[_NNLAWS_RUN]:
        use_profiles()


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say which copy of nnlaws runs (an install, or the repository)."""
    if not config.stash.get(_NNLAWS_RUN, False):
        return None
    import reference

    reference_dir = Path(reference.__file__).resolve().parent
    where = f"properties from {_PACKAGE}, reference from {reference_dir}"
    return f"nnlaws {reference.__version__}: {where}"
