"""Where points run. An executor maps ``evaluate`` over tasks and yields results as they finish (any order).

``local``: a process pool whose workers die with their parent (Linux ``PR_SET_PDEATHSIG`` plus a watchdog on
``os.getppid()``) and ignore SIGINT, so Ctrl-C reaches the parent, which stops cleanly. ``dask``: a
``distributed`` scheduler at an address. Another backend (Ray: ``ray.remote(evaluate)`` and ``ray.wait``) is
one more class with the same two methods, registered in ``EXECUTORS``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any, Callable, Iterable, Iterator

from archsim.base.errors import ArchsimError


def _die_with_parent(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        import time

        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="archsim-parent-watch").start()


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int = 1, **_: Any):
        self.jobs = jobs
        self.pool = None

    def map_unordered(self, fn: Callable, tasks: Iterable[dict]) -> Iterator[dict]:
        tasks = list(tasks)
        if self.jobs <= 1 or len(tasks) <= 1:
            for t in tasks:
                yield fn(t)
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=mp.get_context("spawn"),
                                        initializer=_die_with_parent, initargs=(os.getpid(),))
        futures = [self.pool.submit(fn, t) for t in tasks]
        for f in as_completed(futures):
            yield f.result()

    def close(self) -> None:
        if self.pool is not None:
            procs = list(getattr(self.pool, "_processes", {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(5)
            self.pool = None


class DaskExecutor:
    name = "dask"

    def __init__(self, scheduler: str | None = None, **_: Any):
        if not scheduler:
            raise ArchsimError("expected --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786) for the dask executor",
                               key="--scheduler")
        try:
            from distributed import Client
        except ImportError:
            raise ArchsimError("the dask executor needs `pip install archsim[dask]`", key="--executor") from None
        try:
            self.client = Client(scheduler, timeout=20)
        except (OSError, TimeoutError) as exc:
            raise ArchsimError(f"cannot reach the Dask scheduler: {exc}", key="--scheduler") from None

    def map_unordered(self, fn: Callable, tasks: Iterable[dict]) -> Iterator[dict]:
        from distributed import as_completed

        tasks = list(tasks)
        if not tasks:
            return
        futures = self.client.map(fn, tasks, pure=False)
        self._futures = futures
        for f in as_completed(futures):
            yield f.result()

    def close(self) -> None:
        futures = getattr(self, "_futures", None)
        if futures:
            self.client.cancel(futures)
        self.client.close()


EXECUTORS = {"local": LocalExecutor, "dask": DaskExecutor}


def check_executor(name: str, scheduler: str | None) -> None:
    """The executor's arguments, checked before any work."""
    if name not in EXECUTORS:
        raise ArchsimError(f"unknown executor {name!r}; expected one of {sorted(EXECUTORS)}", key="--executor")
    if name == "dask" and not scheduler:
        raise ArchsimError("expected --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786) for the dask executor",
                           key="--scheduler")


def make_executor(name: str, **kw: Any):
    check_executor(name, kw.get("scheduler"))
    return EXECUTORS[name](**kw)
