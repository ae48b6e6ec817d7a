"""mapper: the compiler from (workload, architecture) to a :class:`~archsim.cyclesim.program.Program`.

One lowering per architecture family, registered by the spec's ``family:``. The mapper knows nothing of timing:
it decides what runs where and in what order. ``compile(workload, spec)`` dispatches to the lowering.

    import arch, mapper, workloads
    program = mapper.compile(workloads.gpt("gpt2-small").decode(prompt=8, tokens=4), arch.load("t4"))
"""

from __future__ import annotations

from typing import Any, Callable

from archsim.base.errors import MappingError
from archsim.base.registry import Registry

Lowering = Callable[..., Any]
#: family name (``family:`` in the YAML) -> lowering; every module of this package registers its own.
LOWERINGS: Registry[Lowering] = Registry("lowering", package="archsim.mapper")


def lowering(*families: str):
    """Register a lowering for architecture families (``family:`` in the YAML)."""
    return LOWERINGS.register(*families)


def families() -> list[str]:
    """The architecture families that have a lowering (what ``family:`` may say)."""
    return LOWERINGS.names()


def compile(workload, spec, *, limits=None, progress=None, **options):  # noqa: A001 - the compiler entry point
    """Lower ``workload`` (a :class:`archsim.workloads.Workload`) onto ``spec`` (an :class:`archsim.arch.Spec`);
    returns a Program. Wrong argument types raise :class:`MappingError` naming what was expected.

    Before lowering, the run's state and work are estimated (:mod:`archsim.mapper.guard`) and a run over
    ``limits`` (a :class:`~archsim.mapper.guard.Limits`; default: 3/4 of physical memory, 1e9 commands) is
    refused with a :class:`MappingError` naming the limit and the estimate. ``progress(done, total, what)``, if
    given, is called as the lowering advances (per layer or per step)."""
    from archsim.arch import ArchSpec
    from archsim.workloads import Workload

    if not isinstance(workload, Workload):
        raise MappingError(f"compile() expects a Workload (e.g. archsim.workloads.gpt('gpt2-small').decode(...)) "
                           f"as its first argument, got {type(workload).__name__}", key="workload")
    if not isinstance(spec, ArchSpec):
        hint = " (load it first: archsim.arch.load(%r))" % spec if isinstance(spec, str) else ""
        raise MappingError(f"compile() expects an architecture Spec as its second argument, got "
                           f"{type(spec).__name__}{hint}", key="spec")
    fn = LOWERINGS.get(spec.family)
    if fn is None:
        raise MappingError(f"no lowering for architecture family {spec.family!r}; "
                           f"expected one of: {', '.join(families())}", file=spec.file, key="family")
    from archsim.mapper.guard import check

    check(workload, spec, limits, **options)
    if progress is not None:
        options["progress"] = progress
    return fn(workload, spec, **options)
