"""Event-kernel throughput on a synthetic workload (budget: >= 1,000,000 events/s on one core).

64 components in two clock domains (2 GHz and 1 GHz) each keep a chain of events alive: every event advances
the component's state and schedules its successor a pseudo-random number of cycles later (a fixed LCG, so the run is deterministic). Prints events/s.

    .venv/bin/python benchmarks/kernel.py [--events N]
"""

from __future__ import annotations

import argparse
import time

from archsim.cyclesim import Component, Simulator, Timebase


class Pinger(Component):
    __slots__ = ("state", "left", "period")

    def __init__(self, sim, name, clock, seed, left):
        super().__init__(sim, name, clock)
        self.state = seed
        self.left = left
        self.period = self.clock.ticks_per_cycle

    def fire(self, _arg) -> None:
        s = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        self.state = s
        self.left -= 1
        if self.left:
            self.sim.schedule(((s >> 16) & 15) * self.period + self.period, self.fire)


def run(events: int, components: int = 64) -> tuple[int, float, int]:
    sim = Simulator(Timebase({"fast": 2000, "slow": 1000}))
    per = events // components
    parts = [Pinger(sim, f"p{i}", "fast" if i % 2 else "slow", i + 1, per) for i in range(components)]
    for p in parts:
        sim.schedule(0, p.fire)
    t0 = time.perf_counter()
    end = sim.run()
    wall = time.perf_counter() - t0
    assert sum(p.left for p in parts) == 0
    return sim.events_run, wall, end


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2_000_000)
    args = ap.parse_args()
    n, wall, end = run(args.events)
    print(f"event kernel: {n:,} events in {wall:.3f} s wall = {n / wall:,.0f} events/s "
          f"(budget >= 1,000,000 events/s); simulated end = tick {end:,}")


if __name__ == "__main__":
    main()
