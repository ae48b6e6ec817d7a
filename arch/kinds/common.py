"""Generic kinds shared by every architecture: systems, links, buffers, host processors."""

from archsim.arch.registry import register_kind
from archsim.arch.schema import count, nonneg, number, text

register_kind("System", "A grouping node with no behaviour of its own (a chip, a board, a cluster).", {
    "technology_nm": number("process node, for area/energy scaling", default=28),
})

register_kind("Link", "A point-to-point link: bandwidth, latency and energy per bit.", {
    "bandwidth_gb_per_s": number("sustained bandwidth in GB/s (1e9 bytes/s)"),
    "latency_ns": nonneg("one-way latency", default=0.0),
    "energy_pj_per_bit": nonneg("energy per transferred bit", default=0.0),
    "protocol": text("what the link is (PCIe 4.0 x4, GDDR6 x16, ...)", default="generic"),
}, children=False)

register_kind("SRAM", "An on-chip buffer: capacity, ports and access energy.", {
    "capacity_bytes": count("capacity"),
    "width_bits": count("bits per access", default=256),
    "read_latency_cycles": count("cycles from request to data", default=1),
    "energy_pj_per_access": nonneg("energy of one width_bits access", default=0.0),
    "area_mm2": nonneg("area", default=0.0),
}, children=False)
