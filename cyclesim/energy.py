"""Energy accounting: dynamic energy booked per event, static power integrated over the run.

All energies are in picojoules, powers in milliwatts; 1 mW for 1 s is 1e9 pJ. Dynamic energy is summed as an
integer number of attojoules, so the total does not depend on the order or grouping of the additions (burst
mode replays a block's energy as one sum; command mode adds every event: both give the same bits).
"""

from __future__ import annotations


class EnergyLedger:
    __slots__ = ("dynamic_aj", "static_mw", "static_pj", "closed_at")

    def __init__(self) -> None:
        self.dynamic_aj: dict[tuple[str, str], int] = {}
        self.static_mw: dict[str, float] = {}
        self.static_pj: dict[str, float] = {}
        self.closed_at: int | None = None

    def add(self, component: str, category: str, pj: float) -> None:
        key = (component, category)
        self.dynamic_aj[key] = self.dynamic_aj.get(key, 0) + round(pj * 1_000_000)

    def static(self, component: str, mw: float) -> None:
        self.static_mw[component] = self.static_mw.get(component, 0.0) + mw

    def close(self, ticks: int, tick_hz: int) -> None:
        seconds = ticks / tick_hz
        self.static_pj = {c: mw * 1e9 * seconds for c, mw in sorted(self.static_mw.items())}
        self.closed_at = ticks

    def per_component(self) -> dict[str, dict[str, float]]:
        """``{component: {"dynamic_pj": .., "static_pj": .., "<category>_pj": ..}}`` in sorted order."""
        out: dict[str, dict[str, float]] = {}
        for (comp, cat), aj in sorted(self.dynamic_aj.items()):
            pj = aj / 1_000_000
            row = out.setdefault(comp, {"dynamic_pj": 0.0, "static_pj": 0.0})
            row[f"{cat}_pj"] = row.get(f"{cat}_pj", 0.0) + pj
            row["dynamic_pj"] += pj
        for comp, pj in self.static_pj.items():
            out.setdefault(comp, {"dynamic_pj": 0.0, "static_pj": 0.0})["static_pj"] = pj
        return dict(sorted(out.items()))

    def total_pj(self) -> float:
        return sum(self.dynamic_aj.values()) / 1_000_000 + sum(self.static_pj.values())
