"""``nnlaws audit``: audit many implementations of the contract, one verdict per property.

A package, not one module, because the command has four jobs that run in different
processes and change for different reasons:

* ``cli``: the command line, the implementations it names, usage errors (exit 4);
* ``probe``: resolves a named implementation in a process of its own before any
  property runs (its import may crash);
* ``runner``: one pytest process per implementation (or per implementation and
  theorem), watched from outside: crashes, hangs in C code, restarts;
* ``child``: the pytest plugin inside each of those processes, recording one verdict
  per property as it happens (and the memory cap, the shrink budget);
* ``outputs``: progress lines, the terminal matrix, JSON (``schema.json``), JUnit, HTML.

The per-property time limit itself lives in ``properties.audit`` (``--impl-timeout``),
so that ``pytest --impl-module`` audits are hang-safe too.
"""
