"""The exception hierarchy every layer raises for user mistakes.

Each error carries where it happened (a file, a key path, a trace line) and what was expected, so the CLI can
print one line and exit with status 2 instead of a traceback. Programming errors stay ordinary exceptions.
"""

from __future__ import annotations

__all__ = ["ArchsimError", "ArchSpecError", "WorkloadError", "MappingError", "SimulationError", "TraceError"]


class ArchsimError(Exception):
    """Base class of every user-facing archsim error (the CLI prints it on one line and exits 2)."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file = file
        self.key = key
        self.detail = message
        parts = []
        if file:
            parts.append(str(file))
        if key:
            parts.append(key)
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ArchSpecError(ArchsimError):
    """An architecture description is malformed: bad YAML, unknown key, wrong type, missing or impossible value."""


class WorkloadError(ArchsimError):
    """A workload request cannot be built: unknown model, impossible shape or length."""


class MappingError(ArchsimError):
    """A workload does not fit the architecture (capacity, unsupported op) or no valid mapping exists."""


class SimulationError(ArchsimError):
    """A program cannot be simulated as given (unknown engine, dependency cycle, invalid command)."""


class TraceError(ArchsimError):
    """A trace file is malformed; the message names the line."""
