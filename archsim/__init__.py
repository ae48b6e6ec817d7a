"""archsim: cycle-accurate, event-driven modeling of hardware accelerators.

The package keeps its import light: the heavy layers are imported on first use.

    import archsim
    spec = archsim.load_arch("pim_gpt", set={"dram.channels": 16})
    result = archsim.simulate(spec, "gpt2-small", tokens=8)
    print(result.summary())
"""

from __future__ import annotations

from archsim.base.errors import (  # noqa: F401  (re-exported)
    ArchsimError,
    ArchSpecError,
    MappingError,
    SimulationError,
    TraceError,
    WorkloadError,
)

__version__ = "0.1.0"

_LAZY = {
    "simulate": ("archsim.api", "simulate"),
    "Result": ("archsim.api", "Result"),
    "load_arch": ("archsim.arch", "load"),
    "workload": ("archsim.api", "workload"),
    "sweep": ("archsim.dse.runner", "sweep"),
    "pareto_front": ("archsim.dse.pareto", "pareto_front"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'archsim' has no attribute {name!r}")
