"""The validated architecture: a tree of components, each with a kind, typed parameters and their sources."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from archsim.base.errors import ArchSpecError


@dataclass
class Component:
    """One node of the architecture tree. ``path`` is the dotted key path (``asic.vector_unit``)."""

    path: str
    impl: str
    params: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    description: str | None = None
    children: dict[str, "Component"] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def __getitem__(self, key: str) -> Any:
        try:
            return self.params[key]
        except KeyError:
            raise KeyError(f"component {self.path!r} ({self.impl}) has no parameter {key!r}") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    def source_of(self, key: str) -> str | None:
        """The ``source:`` that applies to a parameter: its own, else the nearest block's."""
        return self.sources.get(key) or self.source


@dataclass
class ArchSpec:
    """A loaded, validated architecture description.

    ``spec["dram.channels"]`` reads a parameter by key path; ``spec.component("dram")`` gives the node;
    ``spec.walk()`` visits every component in a stable order.
    """

    name: str
    family: str
    file: str
    components: dict[str, Component]
    description: str | None = None
    source: str | None = None
    chain: tuple[str, ...] = ()  # the files this spec extends, nearest first
    overrides: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the merged document before validation

    def walk(self) -> Iterator[Component]:
        def rec(nodes: dict[str, Component]) -> Iterator[Component]:
            for comp in nodes.values():
                yield comp
                yield from rec(comp.children)

        return rec(self.components)

    def component(self, path: str) -> Component:
        parts = path.split(".")
        nodes = self.components
        comp = None
        for i, part in enumerate(parts):
            if part not in nodes:
                where = ".".join(parts[:i]) or "the top level"
                names = ", ".join(nodes) or "none"
                raise ArchSpecError(f"no component {part!r} under {where} (components: {names})",
                                    file=self.file, key=path)
            comp = nodes[part]
            nodes = comp.children
        assert comp is not None
        return comp

    def has(self, path: str) -> bool:
        try:
            self[path]
        except (ArchSpecError, KeyError):
            return False
        return True

    def __getitem__(self, path: str) -> Any:
        comp_path, _, key = path.rpartition(".")
        if not comp_path:
            raise ArchSpecError("expected a key path 'component.parameter'", file=self.file, key=path)
        comp = self.component(comp_path)
        if key not in comp.params:
            raise ArchSpecError(f"component {comp_path!r} ({comp.impl}) has no parameter {key!r}",
                                file=self.file, key=path)
        return comp.params[key]

    def get(self, path: str, default: Any = None) -> Any:
        try:
            return self[path]
        except ArchSpecError:
            return default

    def parameters(self) -> list[dict[str, Any]]:
        """Every resolved parameter as rows ``{path, impl, value, source}`` (defaults say so)."""
        rows = []
        for comp in self.walk():
            for key, value in comp.params.items():
                rows.append({"path": f"{comp.path}.{key}", "impl": comp.impl, "value": value,
                             "source": comp.source_of(key) or "default of the component kind"})
        return rows

    def raw_params(self, path: str) -> set[str]:
        """The parameter names written in the YAML (or overrides) for a component, as opposed to defaults."""
        node: dict = {"components": self.raw.get("components", {})}
        for part in path.split("."):
            node = (node.get("components") or {}).get(part) or {}
        return {k for k in node if k not in ("impl", "source", "description", "components", "notes")}

    def to_dict(self) -> dict[str, Any]:
        def comp_dict(c: Component) -> dict[str, Any]:
            d: dict[str, Any] = {"impl": c.impl, **c.params}
            if c.children:
                d["components"] = {k: comp_dict(v) for k, v in c.children.items()}
            return d

        return {"name": self.name, "family": self.family,
                "components": {k: comp_dict(v) for k, v in self.components.items()}}

    def fingerprint(self) -> str:
        """A stable hash of the resolved parameters (the cache key of a design point)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_overrides(self, overrides: dict[str, Any]) -> "ArchSpec":
        """A new, re-validated spec with ``{"comp.param": value}`` applied."""
        from archsim.arch.loader import apply_overrides

        return apply_overrides(self, overrides)
