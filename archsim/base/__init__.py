"""archsim.base: what every layer may use and that imports no layer.

- :mod:`archsim.base.errors`: the ``ArchsimError`` hierarchy (user mistakes; the CLI prints one line, exit 2);
- :mod:`archsim.base.registry`: ``Registry`` (name -> implementation, chosen from YAML) and ``import_all``
  (registration by adding a module);
- :mod:`archsim.base.numerics`: dtype widths and bf16 emulation shared by workloads, mapper and simulator;
- :mod:`archsim.base.io`: atomic file output (a result is complete or absent).

A test (``tests/test_layers.py``) keeps this module free of imports from the other layers.
"""
