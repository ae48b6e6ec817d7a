"""Progress bars for long phases of CLI commands (mapping, simulating, sweeping, trace replay), with tqdm.

Progress is shown only on a terminal: ``Progress(enabled)`` is on when ``enabled`` and the stream (stderr) is
a TTY, so piped output, ``--quiet`` and ``--json`` stay clean. It never feeds back into a result (callbacks
only read the counts). ``end_all()`` ends every open bar with a newline; the CLI calls it before it prints an
error, so an error never lands on the end of a progress line.

    prog = Progress(not args.quiet)
    archsim.simulate(..., map_progress=prog.callback("mapping", "layer"), progress=prog.callback("simulating",
                     "block"))
    prog.close()
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Callable, Iterator

_OPEN: list["Progress"] = []


def end_all() -> None:
    """End every open progress bar (each line ends with a newline)."""
    for p in list(_OPEN):
        p.close()


def _columns(stream) -> int:
    """The terminal's width, or 100 where it reports none (a pty without a size says 0; tqdm then draws an
    empty bar, hence also the fixed ``nrows``)."""
    import os

    try:
        cols = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        cols = 0
    return cols if cols >= 40 else 100


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """One bar at a time on ``stream`` (default: stderr at creation); a new phase ends the previous bar."""

    def __init__(self, enabled: bool = True, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(enabled) and is_terminal(self.stream)
        self._bar = None
        self._desc = None

    def callback(self, desc: str, unit: str = "it") -> Callable[..., None] | None:
        """A ``(done, total, *what)`` callback updating the bar ``desc``; None when progress is off."""
        if not self.enabled:
            return None

        def update(done: int, total: int, *what) -> None:
            self.update(desc, unit, done, total)

        return update

    def update(self, desc: str, unit: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None or self._desc != desc:
            self.close()
            self._bar = tqdm(total=total or None, desc=f"  {desc}", unit=unit, file=self.stream, leave=True,
                             ncols=_columns(self.stream), nrows=24, mininterval=0.2)
            self._desc = desc
            if self not in _OPEN:
                _OPEN.append(self)
        bar = self._bar
        if total and bar.total != total:
            bar.total = total
        if done > bar.n:
            bar.update(done - bar.n)   # tqdm limits the redraws (mininterval)

    @contextlib.contextmanager
    def watch(self, desc: str, read: Callable[[], tuple[int, int]], unit: str = "it",
              interval: float = 0.5) -> Iterator[None]:
        """Show ``read() -> (done, total)`` every ``interval`` seconds while the body runs, from a thread that
        only reads (for a loop that has no callback, e.g. a DRAM replay); the bar ends with the body."""
        if not self.enabled:
            yield
            return
        stop = threading.Event()
        lock = threading.Lock()

        def poll() -> None:
            while not stop.wait(interval):
                try:
                    done, total = read()
                except Exception:  # noqa: BLE001 - a racing read is only a missed update
                    continue
                with lock:
                    if not stop.is_set():
                        self.update(desc, unit, done, total)

        t = threading.Thread(target=poll, name="archsim-progress", daemon=True)
        t.start()
        try:
            yield
        finally:
            with lock:
                stop.set()
            t.join()
            try:
                done, total = read()
                self.update(desc, unit, done, total)
            except Exception:  # noqa: BLE001
                pass
            self.close()

    def close(self) -> None:
        """End the current bar (its line ends with a newline)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._desc = None
        if self in _OPEN:
            _OPEN.remove(self)
