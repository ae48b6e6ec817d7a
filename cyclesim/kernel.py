"""The discrete-event kernel: integer time, a heap of events, components, resources.

Design choices (DESIGN.md, "Fast by construction"):

* Time is an ``int`` number of ticks (see :mod:`archsim.cyclesim.clock`); the loop jumps from event to event and never
  ticks idle cycles.
* Events at the same time run in the order they were scheduled: a run is deterministic by construction.
* Components and resources use ``__slots__``; counters are plain dicts of ints.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any, Callable

from archsim.base.errors import SimulationError
from archsim.cyclesim.clock import ClockDomain, Timebase
from archsim.cyclesim.energy import EnergyLedger
from archsim.cyclesim.trace import TraceRecorder

Callback = Callable[[Any], None]


class Simulator:
    """Owns the clock, the event queue, the components, the energy ledger and the optional trace.

    The queue is a calendar: a heap of distinct event times plus, per time, a flat list ``[cb, arg, cb, arg,
    ...]`` in scheduling order. Events at one time run first-scheduled first (exactly the order a
    ``(time, seq)`` heap gives), and an event scheduled for the current time joins the end of the bucket being
    run. Cycle-level models put many events on the same clock edge, so most schedules are a list append instead
    of a heap push.
    """

    __slots__ = ("now", "timebase", "components", "ledger", "tracer", "events_run", "_times", "_buckets")

    def __init__(self, timebase: Timebase, *, trace: bool = False):
        self.now = 0
        self.timebase = timebase
        self.components: dict[str, Component] = {}
        self.ledger = EnergyLedger()
        self.tracer = TraceRecorder(timebase) if trace else None
        self.events_run = 0
        self._times: list[int] = []
        self._buckets: dict[int, list] = {}

    # -- scheduling -------------------------------------------------------------------------------------------
    def schedule(self, delay: int, callback: Callback, arg: Any = None) -> None:
        """Run ``callback(arg)`` ``delay`` ticks from now (``delay`` >= 0)."""
        if delay < 0:
            raise SimulationError(f"cannot schedule an event {delay} ticks in the past")
        t = self.now + delay
        bucket = self._buckets.get(t)
        if bucket is None:
            self._buckets[t] = [callback, arg]
            heappush(self._times, t)
        else:
            bucket.append(callback)
            bucket.append(arg)

    def calendar(self) -> tuple[list[int], dict[int, list]]:
        """The queue itself, ``(heap of times, time -> [cb, arg, ...])``, for a hot loop that schedules without a
        call: an event at ``t >= now`` is ``buckets[t] += [cb, arg]``, pushing ``t`` on the heap if the bucket is
        new (exactly what :meth:`schedule` does). The two objects live as long as the simulator."""
        return self._times, self._buckets

    def at(self, time: int, callback: Callback, arg: Any = None) -> None:
        """Run ``callback(arg)`` at absolute tick ``time`` (not before now)."""
        if time < self.now:
            raise SimulationError(f"cannot schedule an event at tick {time}, before now ({self.now})")
        self.schedule(time - self.now, callback, arg)

    def run(self, until: int | None = None) -> int:
        """Process events in time order until none is left (or the next is after ``until``); returns now."""
        times = self._times
        buckets = self._buckets
        pop = heappop
        n = 0
        while times and (until is None or times[0] <= until):
            t = pop(times)
            self.now = t
            bucket = buckets[t]
            it = iter(bucket)   # (callback, arg) pairs; one scheduled at t while the bucket runs joins it
            for callback, arg in zip(it, it):
                callback(arg)
            n += len(bucket) >> 1
            del buckets[t]
        self.events_run += n
        return self.now

    @property
    def pending(self) -> int:
        return sum(len(b) for b in self._buckets.values()) // 2

    # -- components -------------------------------------------------------------------------------------------
    def add(self, component: "Component") -> "Component":
        if component.name in self.components:
            raise SimulationError(f"two components are named {component.name!r}")
        self.components[component.name] = component
        return component

    def finish(self) -> None:
        """Close the run: charge static power for the elapsed time."""
        self.ledger.close(self.now, self.timebase.tick_hz)


class Component:
    """A named part of the machine in one clock domain, with counters, busy time and energy.

    Subclasses implement behaviour by scheduling callbacks on ``self.sim``. ``count`` bumps a named counter;
    ``charge`` books dynamic energy in picojoules; ``busy`` records an interval of activity (for utilization and
    the trace).
    """

    __slots__ = ("name", "sim", "clock", "stats", "busy_ticks")

    def __init__(self, sim: Simulator, name: str, clock: str, *, static_mw: float = 0.0):
        self.name = name
        self.sim = sim
        self.clock: ClockDomain = sim.timebase[clock]
        self.stats: dict[str, int] = {}
        self.busy_ticks = 0
        sim.add(self)
        if static_mw:
            sim.ledger.static(name, static_mw)

    def cycles(self, n: int) -> int:
        """``n`` cycles of this component's clock, in ticks."""
        return n * self.clock.ticks_per_cycle

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def charge(self, category: str, pj: float) -> None:
        self.sim.ledger.add(self.name, category, pj)

    def busy(self, start: int, end: int, label: str | None = None) -> None:
        self.busy_ticks += end - start
        tracer = self.sim.tracer
        if tracer is not None and label is not None:
            tracer.span(self.name, label, start, end)


class Resource:
    """``capacity`` identical units that serve requests in the order they are made.

    ``reserve(earliest, duration)`` books the unit that frees up first, no earlier than ``earliest``, and returns
    the start tick. It is the "next free time" bookkeeping that pipelines, buses and banks share; occupancy is
    accumulated for utilization.
    """

    __slots__ = ("name", "free_at", "busy_ticks", "grants")

    def __init__(self, name: str, capacity: int = 1):
        if capacity < 1:
            raise SimulationError(f"resource {name!r} needs capacity >= 1, got {capacity}")
        self.name = name
        self.free_at = [0] * capacity
        self.busy_ticks = 0
        self.grants = 0

    def reserve(self, earliest: int, duration: int) -> int:
        free = self.free_at
        if len(free) == 1:
            start = free[0] if free[0] > earliest else earliest
            free[0] = start + duration
        else:
            i = min(range(len(free)), key=free.__getitem__)
            start = free[i] if free[i] > earliest else earliest
            free[i] = start + duration
        self.busy_ticks += duration
        self.grants += 1
        return start

    @property
    def capacity(self) -> int:
        return len(self.free_at)

    def utilization(self, elapsed: int) -> float:
        return self.busy_ticks / (elapsed * len(self.free_at)) if elapsed else 0.0
