"""The user-facing error classes, re-exported from :mod:`archsim.base.errors` (where every layer imports them)."""

from archsim.base.errors import (  # noqa: F401  (re-exported)
    ArchsimError,
    ArchSpecError,
    MappingError,
    SimulationError,
    TraceError,
    WorkloadError,
)
