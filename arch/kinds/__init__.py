"""Built-in component kinds. Importing this package registers them.

A new kind is a module here that calls :func:`archsim.arch.registry.register_kind`; parameters whose constraints span
several values add a function to :data:`CROSS_CHECKS` returning ``(key, message)`` for the first problem.
"""

from __future__ import annotations

from typing import Any, Callable

CrossCheck = Callable[[dict[str, Any]], "tuple[str, str] | None"]
CROSS_CHECKS: dict[str, list[CrossCheck]] = {}


def cross_check(*impls: str):
    def deco(fn: CrossCheck) -> CrossCheck:
        for impl in impls:
            CROSS_CHECKS.setdefault(impl, []).append(fn)
        return fn

    return deco


from archsim.base.registry import import_all  # noqa: E402

import_all("archsim.arch.kinds")  # every module of this package registers its kinds
