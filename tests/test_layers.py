"""Imports flow one way between the layers (docs/design.md, "Layers"); nothing else is imported at top level.

The graph is read with ``ast`` from the source (no module is executed), including imports inside functions, so
a lazy upward import counts too. A planted upward import is a negative control: the checker must report it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: folder (relative to the repository) -> layer; archsim/ minus archsim/base is the front door
FOLDERS = {"archsim/base": "base", "arch": "arch", "workloads": "workloads", "mapper": "mapper",
           "cyclesim": "cyclesim", "rtl": "rtl", "archsim": "front"}

#: layer -> the layers it may import (itself always allowed)
ALLOWED = {
    "base": set(),
    "arch": {"base"},
    "workloads": {"base"},
    "rtl": {"base"},
    "cyclesim": {"base", "arch", "rtl"},          # the simulator knows no workloads and no mapper
    "mapper": {"base", "arch", "workloads", "cyclesim", "rtl"},
    "front": {"base", "arch", "workloads", "mapper", "cyclesim", "rtl"},
}

#: generic top-level names that must only ever be imported under archsim.*
GENERIC = {"arch", "workloads", "mapper", "cyclesim", "rtl"}


def layer_of_module(name: str) -> str | None:
    """The layer of an absolute module name under archsim.*, or None for a third-party/stdlib module."""
    parts = name.split(".")
    if parts[0] != "archsim":
        return None
    if len(parts) == 1:
        return "front"
    sub = parts[1]
    if sub == "base":
        return "base"
    return sub if sub in GENERIC else "front"


def layer_of_file(rel: str) -> str:
    for folder, layer in FOLDERS.items():
        if rel == folder or rel.startswith(folder + "/"):
            return layer
    raise AssertionError(f"{rel} is in no layer")


def module_name(rel: str) -> str:
    """The archsim.* module name a source file installs as (pyproject's package-dir mapping)."""
    parts = list(Path(rel).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts[0] == "archsim" else ".".join(["archsim", *parts])


def imports_of(source: str, modname: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, relative imports resolved."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = modname.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "archsim":  # `from archsim import arch` imports the layer archsim.arch
                out += [(node.lineno, f"archsim.{a.name}" if a.name in GENERIC | {"base"} else "archsim")
                        for a in node.names]
            else:
                out.append((node.lineno, target))
    return out


def violations(files: dict[str, str]) -> list[str]:
    """Every forbidden import in ``files`` (repository-relative path -> source)."""
    found = []
    for rel, source in sorted(files.items()):
        layer = layer_of_file(rel)
        modname = module_name(rel)
        for line, target in imports_of(source, modname, rel.endswith("__init__.py")):
            top = target.split(".")[0]
            if top in GENERIC:
                found.append(f"{rel}:{line}: imports the generic top-level name {target!r}; use archsim.{target}")
                continue
            dep = layer_of_module(target)
            if dep is None or dep == layer:
                continue
            if dep not in ALLOWED[layer]:
                found.append(f"{rel}:{line}: {layer} imports {target} ({dep}); {layer} may import only "
                             f"{', '.join(sorted(ALLOWED[layer])) or 'no other layer'}")
    return found


def package_sources() -> dict[str, str]:
    files = {}
    for folder in ("archsim", "arch", "workloads", "mapper", "cyclesim", "rtl"):
        for path in (ROOT / folder).rglob("*.py"):
            files[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return files


def test_layers_import_only_downward():
    assert violations(package_sources()) == []


def test_tests_examples_benchmarks_use_the_archsim_root():
    bad = []
    for folder in ("tests", "examples", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for line, target in imports_of(path.read_text(encoding="utf-8"), "x", False):
                if target.split(".")[0] in GENERIC:
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert bad == []


@pytest.mark.parametrize("rel, planted, expect", [
    ("cyclesim/dram/system.py", "from archsim.api import simulate\n", "cyclesim imports archsim.api (front)"),
    ("cyclesim/run.py", "def f():\n    from archsim.workloads.ops import Gemm\n", "cyclesim imports archsim.workloads"),
    ("archsim/base/errors.py", "from archsim.arch import load\n", "base imports archsim.arch (arch)"),
    ("workloads/ops.py", "from ..mapper import compile\n", "workloads imports archsim.mapper (mapper)"),
    ("arch/loader.py", "import cyclesim.run\n", "generic top-level name 'cyclesim.run'"),
    ("rtl/timing.py", "from archsim import mapper\n", "rtl imports archsim.mapper (mapper)"),
    ("mapper/pim_gpt.py", "from archsim import simulate\n", "mapper imports archsim (front)"),
])
def test_planted_upward_import_is_reported(rel, planted, expect):
    """Negative control: the checker is not vacuous."""
    files = package_sources()
    files[rel] = files[rel] + "\n" + planted
    found = violations(files)
    assert len(found) == 1 and expect in found[0], found
