"""Adapters: the contract implemented on each framework, so the suite can audit the framework.

An adapter maps a framework's conventions (NCHW images, OIHW kernels, probability
targets, its own dtypes and autograd) onto the contract's names and layouts, and does
nothing else: every number comes from the framework. One module per framework:

* ``properties.adapters.torch_adapter``: PyTorch (``pip install 'nnlaws[torch]'``);
* ``properties.adapters.jax_adapter``: JAX with float64 enabled (``'nnlaws[jax]'``);
* ``properties.adapters.scipy_adapter``: SciPy and NumPy (always installed).

Audit one with ``pytest --impl-module properties.adapters.torch_adapter``. The modules
are named ``<framework>_adapter``, not after the framework: a module ``torch.py`` would
work under Python 3's absolute imports, but it shadows the real ``torch`` as soon as its
own folder is on ``sys.path`` (running a command from inside it, which the audit's
"modules are found from the current directory" rule makes likely).

This ``__init__`` imports none of them, so the package imports without torch or jax.
Each module may declare ``EXPECTED_FAILURES = {"test_name": "reason"}``: the properties
it is known to fail, each a finding with its counterexample; ``meta/test_adapters.py``
holds the adapter to exactly that list (a strict xfail: a fixed framework shows up).
"""
