"""Runs inside the repository: nnlaws's pytest plugin and its Hypothesis profiles.

The profiles (``dev`` by default, ``ci``, ``thorough``, ``catalogue``; choose one with
Hypothesis's own ``pytest --hypothesis-profile=NAME``) and the audit options are defined
once, in ``properties/plugin.py``, which an install of nnlaws also registers as a pytest
plugin (entry point ``properties.plugin``) for runs from any directory. Naming it here
makes a checkout work without an install, and registers nothing twice when the entry
point is there too: pytest skips a plugin whose name is already registered.
Here the profiles are set up at import, for every run in the repository (benchmarks and
single files included), before Hypothesis loads ``--hypothesis-profile``.
"""

from properties.plugin import use_profiles

pytest_plugins = ["properties.plugin"]

use_profiles()
