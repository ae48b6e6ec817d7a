"""Engine timing models, registered by the ``impl`` name of the architecture component they model.

An engine model turns one :class:`~archsim.cyclesim.program.Command` into a duration in its own clock's cycles and a
dynamic energy in picojoules. Models are stateless between blocks (the simulator relies on that to reuse the
result of identical blocks). A new hardware behaviour is a new model class decorated with ``@engine_model``.
"""

from __future__ import annotations

from typing import Any

from archsim.base.errors import SimulationError
from archsim.base.registry import Registry

#: component ``impl`` name -> engine model class; every module of this package registers its own.
ENGINE_MODELS: Registry[type["EngineModel"]] = Registry("engine model", package="archsim.cyclesim.engines")


def engine_model(*impls: str):
    """Class decorator registering an engine model for the component kinds ``impls``."""
    return ENGINE_MODELS.register(*impls)


class EngineModel:
    """Base class. ``params`` are the component's resolved parameters; ``clock_mhz`` its clock.

    A *stateless* model implements :meth:`cost`. A *stateful* one (``stateful = True``, e.g. a DRAM whose open
    rows and refresh schedule carry over) implements :meth:`execute`, which also gets the start cycle; the
    runner then never replays a block from memory (the model may have its own, exact, reuse).
    """

    clock_key = "freq_mhz"
    stateful = False
    mode = "burst"  # set by the runner: "command" or "burst"

    def __init__(self, name: str, impl: str, params: dict[str, Any]):
        self.name = name
        self.impl = impl
        self.params = params

    @property
    def clock_mhz(self) -> float:
        return self.params[self.clock_key]

    @property
    def static_mw(self) -> float:
        return 0.0

    def cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        """``(cycles, dynamic_pj)`` of one command."""
        raise NotImplementedError

    def execute(self, op: str, work: dict[str, Any], start_cycle: int) -> tuple[int, float, dict[str, int]]:
        """Stateful models: ``(cycles, dynamic_pj, counters)`` of one command started at ``start_cycle``."""
        raise NotImplementedError

    def finish(self, end_cycle: int) -> dict[str, float]:
        """Energy (pJ by category) to book when the run ends at ``end_cycle`` (e.g. idle background power)."""
        return {}

    def counters(self) -> dict[str, int]:
        """Counters to add to the engine's statistics when the run ends (after :meth:`finish`), for a model
        that keeps its own tallies instead of returning them with every command."""
        return {}

    def report(self) -> dict[str, Any]:
        """Extra figures for the result (e.g. a DRAM row-hit rate)."""
        return {}

    # -- block reuse for stateful models (burst mode; see archsim.cyclesim.run) ------------------------------
    def memo_key(self, start_cycle: int, offset: Any) -> tuple[Any, int] | None:
        """Stateful models: ``(key, ref)`` of the state that can affect a block whose commands start at or after
        ``start_cycle`` (``offset``: the block's translation for this engine, e.g. an anchor row), ``ref`` being
        the cycle the key is relative to; None if the state cannot be keyed (then the block is simulated)."""
        return None

    def memo_begin(self) -> Any:
        """Before simulating a keyed block: what :meth:`memo_end` needs."""
        return None

    def memo_end(self, snapshot: Any, ref: int, offset: Any) -> Any:
        """After simulating a keyed block: its effect on the model's state relative to ``ref`` (None: do not
        reuse it)."""
        return None

    def memo_apply(self, effect: Any, ref: int, offset: Any) -> None:
        """Apply an effect recorded by :meth:`memo_end` at another ``ref`` with an equal key."""
        raise NotImplementedError

    def unsupported(self, op: str) -> SimulationError:
        return SimulationError(f"engine {self.name!r} ({self.impl}) cannot execute op {op!r}")


def model_for(name: str, impl: str, params: dict[str, Any]) -> EngineModel:
    cls = ENGINE_MODELS.get(impl)
    if cls is None:
        raise SimulationError(f"no engine model is registered for impl {impl!r} (component {name!r}); "
                              f"registered: {', '.join(ENGINE_MODELS.names())}")
    return cls(name, impl, params)
