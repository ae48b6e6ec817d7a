"""``archsim reproduce``: each published system's headline numbers beside the model's, with the ratio.

A target is a function registered with :func:`target` that builds a :class:`Report` (claims, tables, figures).
The framework prints it, and writes one CSV per table and one PNG per figure under ``reports/<target>/``,
atomically. A disagreement is explained in the claim's ``note``, never tuned away.
"""

from __future__ import annotations

from typing import Callable

from archsim.errors import ArchsimError
from archsim.reproduce.report import Claim, Report  # noqa: F401  (re-exported)

TARGETS: dict[str, tuple[str, str]] = {
    # name: (module, one-line description); modules register lazily so `archsim list` stays fast
}
_BUILDERS: dict[str, Callable[..., Report]] = {}


def target(name: str, description: str):
    """Register a reproduce target. The decorated function takes ``quick: bool`` and returns a Report."""

    def deco(fn: Callable[..., Report]) -> Callable[..., Report]:
        _BUILDERS[name] = fn
        TARGETS.setdefault(name, (fn.__module__, description))
        return fn

    return deco


def _discover() -> None:
    from archsim.plugins import import_all

    import_all("archsim.reproduce.targets")  # one module per target, each using @target


def names() -> list[str]:
    _discover()
    return sorted(_BUILDERS)


def build(name: str, *, quick: bool = False) -> Report:
    _discover()
    fn = _BUILDERS.get(name)
    if fn is None:
        raise ArchsimError(f"unknown reproduce target {name!r}; expected one of: {', '.join(names()) or 'none'}, all")
    return fn(quick=quick)
