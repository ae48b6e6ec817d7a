"""Import every module of a package once, so registrations (kinds, lowerings, engine models, reproduce
targets) happen by adding a file: no central list to edit."""

from __future__ import annotations

import importlib
import pkgutil

_done: set[str] = set()


def import_all(package: str) -> None:
    if package in _done:
        return
    _done.add(package)
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
