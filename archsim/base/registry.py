"""Registries: a name written in YAML (``impl:``, ``family:``) or on the command line chooses an implementation.

Implementations register themselves with a decorator in the module that defines them, and a registry imports
every module of its package on first use (:func:`import_all`), so adding a behaviour is adding a file: there is no
central list to edit and no if/else chain on names.

    LOWERINGS = Registry("lowering", package="archsim.mapper")

    @LOWERINGS.register("pim_gpt")
    def lower_pim_gpt(workload, spec): ...

    LOWERINGS.get("pim_gpt")      # the function, or None
    LOWERINGS.names()             # sorted registered names
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")

_done: set[str] = set()      # packages whose modules are all imported
_started: set[str] = set()   # packages being imported (a package's __init__ may call import_all on itself)
# one thread imports at a time and others wait until it is finished, so a second thread (a Dask worker's)
# never sees a half-filled registry; re-entrant for the recursive call above
_lock = threading.RLock()


def import_all(package: str) -> None:
    """Import every public module of ``package`` once (their decorators fill the registries)."""
    if package in _done:
        return
    with _lock:
        if package in _started:
            return
        _started.add(package)
        pkg = importlib.import_module(package)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{package}.{info.name}")
        _done.add(package)


class Registry(Generic[T]):
    """A name -> implementation table of one kind of thing (``what`` names it in messages).

    ``package``, when given, is imported in full (:func:`import_all`) before the first look-up, so the modules
    that register implementations need not be imported by hand. Registering a name twice is a programming
    error (``ValueError``), reported at import time.
    """

    def __init__(self, what: str, *, package: str | None = None):
        self.what = what
        self.package = package
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._items[name] = item
        return item

    def register(self, *names: str) -> Callable[[T], T]:
        """Decorator registering the decorated object under every name in ``names``."""

        def deco(item: T) -> T:
            for name in names:
                self.add(name, item)
            return item

        return deco

    def _load(self) -> None:
        if self.package is not None:
            import_all(self.package)

    def get(self, name: str) -> T | None:
        self._load()
        return self._items.get(name) if isinstance(name, str) else None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
