"""mapper: the compiler from (workload, architecture) to a :class:`~cyclesim.program.Program`.

One lowering per architecture family, registered by the spec's ``family:``. The mapper knows nothing of timing:
it decides what runs where and in what order. ``compile(workload, spec)`` dispatches to the lowering.

    import arch, mapper, workloads
    program = mapper.compile(workloads.gpt("gpt2-small").decode(prompt=8, tokens=4), arch.load("t4"))
"""

from __future__ import annotations

from typing import Any, Callable

from archsim.errors import MappingError

Lowering = Callable[..., Any]
LOWERINGS: dict[str, Lowering] = {}


def lowering(*families: str):
    """Register a lowering for architecture families (``family:`` in the YAML)."""

    def deco(fn: Lowering) -> Lowering:
        for f in families:
            if f in LOWERINGS:
                raise ValueError(f"a lowering for family {f!r} is registered twice")
            LOWERINGS[f] = fn
        return fn

    return deco


def _load_builtin() -> None:
    from archsim.plugins import import_all

    import_all("mapper")  # every module of the package registers its lowerings


def compile(workload, spec, **options):  # noqa: A001 - the natural name for the compiler entry point
    """Lower ``workload`` (a :class:`workloads.Workload`) onto ``spec``; returns a Program."""
    _load_builtin()
    fn = LOWERINGS.get(spec.family)
    if fn is None:
        raise MappingError(f"no lowering for architecture family {spec.family!r}; "
                           f"available: {', '.join(sorted(LOWERINGS))}", file=spec.file, key="family")
    return fn(workload, spec, **options)
