"""Parameter checking shared by the RTL units: a rejected parameter is a user mistake with a one-line message.

The errors are :class:`~archsim.base.errors.ArchsimError` subclasses (so the CLI prints one line and exits 2) that
are also ``TypeError`` / ``ValueError`` (so Python callers can catch them the ordinary way).
"""

from __future__ import annotations

from numbers import Integral

from archsim.base.errors import ArchsimError

__all__ = ["RtlParamError", "RtlParamTypeError", "check_ints", "refuse"]


class RtlParamError(ArchsimError, ValueError):
    """An RTL unit parameter is out of range or inconsistent with another one."""


class RtlParamTypeError(ArchsimError, TypeError):
    """An RTL unit parameter has the wrong type."""


def refuse(component, message: str, error=RtlParamError):
    """Raise ``error(message)`` from a component's constructor. A rejected unit is not an unused design, so
    Amaranth's "elaboratable created but never used" warning at exit is silenced first."""
    component._MustUse__silence = True
    raise error(message)


def check_ints(component, unit: str, **values) -> list[int]:
    """Every value must be an int (not a bool): returns them as ints, in order."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, Integral):
            refuse(component, f"{unit}: {name} must be an int, got {type(value).__name__} {value!r}",
                   RtlParamTypeError)
    return [int(v) for v in values.values()]
