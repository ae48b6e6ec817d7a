"""arch: architecture descriptions (schema, loader, registry of component kinds, shipped specs).

    from archsim import arch
    spec = arch.load("pim_gpt", set={"dram.channels": 16})
    spec["dram.channels"]         # 16
    spec.component("asic").source_of("freq_mhz")
"""

from archsim.arch.loader import load, load_text, parse_override, spec_names
from archsim.arch.registry import get_kind, kind_names, register_kind
from archsim.arch.spec import ArchSpec, Component

__all__ = ["load", "load_text", "parse_override", "spec_names", "get_kind", "kind_names", "register_kind",
           "ArchSpec", "Component"]
