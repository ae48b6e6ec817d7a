"""The registry of component kinds: ``impl:`` names in YAML resolve here to a parameter schema.

Behaviour (a cycle model) is registered separately by the simulator under the same name; the architecture
layer only knows what parameters a kind has, their types, units and defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from arch.schema import Param, has_unit


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    params: dict[str, Param]
    children: bool = True  # whether nested ``components:`` are allowed


KINDS: dict[str, Kind] = {}


def register_kind(name: str, doc: str, params: dict[str, Param], *, children: bool = True) -> Kind:
    """Declare a component kind. Numeric parameter names must carry a unit (checked here, at import)."""
    if name in KINDS:
        raise ValueError(f"component kind {name!r} is registered twice")
    for pname, p in params.items():
        if p.type in ("int", "float") and not has_unit(pname):
            raise ValueError(f"kind {name}: numeric parameter {pname!r} needs a unit suffix or a count name")
    kind = Kind(name, doc, dict(params), children)
    KINDS[name] = kind
    return kind


def get_kind(name: str) -> Kind | None:
    _load_builtin()
    return KINDS.get(name)


def kind_names() -> list[str]:
    _load_builtin()
    return sorted(KINDS)


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import arch.kinds  # noqa: F401  (registers the built-in kinds)
