"""The registry of component kinds: ``impl:`` names in YAML resolve here to a parameter schema.

Behaviour (a cycle model) is registered separately by the simulator under the same name; the architecture
layer only knows what parameters a kind has, their types, units and defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.arch.schema import Param, has_unit
from archsim.base.registry import Registry


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    params: dict[str, Param]
    children: bool = True  # whether nested ``components:`` are allowed


#: ``impl`` name -> kind; the modules of archsim.arch.kinds register the built-in ones.
KINDS: Registry[Kind] = Registry("component kind", package="archsim.arch.kinds")


def register_kind(name: str, doc: str, params: dict[str, Param], *, children: bool = True) -> Kind:
    """Declare a component kind. Numeric parameter names must carry a unit (checked here, at import)."""
    for pname, p in params.items():
        if p.type in ("int", "float") and not has_unit(pname):
            raise ValueError(f"kind {name}: numeric parameter {pname!r} needs a unit suffix or a count name")
    return KINDS.add(name, Kind(name, doc, dict(params), children))


def get_kind(name: str) -> Kind | None:
    return KINDS.get(name)


def kind_names() -> list[str]:
    return KINDS.names()
