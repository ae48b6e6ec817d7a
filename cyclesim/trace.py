"""Chrome trace-event JSON (opens in Perfetto or chrome://tracing).

Spans are recorded as complete events (``"ph": "X"``) with timestamps in microseconds computed exactly from
integer ticks; one track (tid) per component, in order of first appearance. Output is deterministic.
"""

from __future__ import annotations

import json
from pathlib import Path

from archsim.cyclesim.clock import Timebase


class TraceRecorder:
    __slots__ = ("timebase", "spans", "tracks")

    def __init__(self, timebase: Timebase):
        self.timebase = timebase
        self.spans: list[tuple[str, str, int, int]] = []
        self.tracks: dict[str, int] = {}

    def span(self, track: str, name: str, start: int, end: int) -> None:
        if track not in self.tracks:
            self.tracks[track] = len(self.tracks) + 1
        self.spans.append((track, name, start, end))

    def to_dict(self) -> dict:
        us = 1e6 / self.timebase.tick_hz
        events = [
            {"ph": "M", "pid": 1, "tid": tid, "name": "thread_name", "args": {"name": track}}
            for track, tid in self.tracks.items()
        ]
        for track, name, start, end in self.spans:
            events.append(
                {"ph": "X", "pid": 1, "tid": self.tracks[track], "name": name,
                 "ts": start * us, "dur": (end - start) * us}
            )
        return {"traceEvents": events, "displayTimeUnit": "ns",
                "otherData": {"tick_hz": self.timebase.tick_hz}}

    def write(self, path: str | Path) -> None:
        from archsim.base.io import write_text_atomic

        write_text_atomic(path, json.dumps(self.to_dict(), separators=(",", ":")))
