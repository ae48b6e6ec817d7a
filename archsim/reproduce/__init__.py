"""``archsim reproduce``: each published system's headline numbers beside the model's, with the ratio.

A target is a function registered with :func:`target` that builds a :class:`Report` (claims, tables, figures).
The framework prints it, and writes one CSV per table and one PNG per figure under ``reports/<target>/``,
atomically. A disagreement is explained in the claim's ``note``, never tuned away.
"""

from __future__ import annotations

from typing import Callable

from archsim.base.errors import ArchsimError
from archsim.base.registry import Registry
from archsim.reproduce.report import Claim, Report  # noqa: F401  (re-exported)

#: target name -> builder; one module per target in archsim.reproduce.targets, each using @target.
_BUILDERS: Registry[Callable[..., Report]] = Registry("reproduce target", package="archsim.reproduce.targets")
DESCRIPTIONS: dict[str, str] = {}


def target(name: str, description: str):
    """Register a reproduce target. The decorated function takes ``quick: bool`` and returns a Report."""

    def deco(fn: Callable[..., Report]) -> Callable[..., Report]:
        DESCRIPTIONS[name] = description
        return _BUILDERS.add(name, fn)

    return deco


def names() -> list[str]:
    return _BUILDERS.names()


def build(name: str, *, quick: bool = False) -> Report:
    fn = _BUILDERS.get(name)
    if fn is None:
        raise ArchsimError(f"unknown reproduce target {name!r}; expected one of: {', '.join(names()) or 'none'}, all")
    return fn(quick=quick)
