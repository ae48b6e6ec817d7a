"""NGPC kinds: the neural graphics processing cluster beside a GPU, and the GPU baseline's measured kernel split.

* ``NGPC``: ``num_nfps`` neural-field processors (NFPs), each with ``engines`` input-encoding engines
  (pos_fract -> grid_index -> interpolation, each with a grid SRAM modelled as a direct-mapped cache of its
  level's table) feeding one ``num_mlp_rows x num_mlp_cols`` MLP engine; misses go over the GPU's L2 to DRAM
  with a latency and a bandwidth shared by every NFP (cyclesim/engines/ngpc.py).
* ``NgpBaseline``: the RTX 3090's time per sample of each application and the shares of encoding, MLP and the
  rest of kernels per encoding, plus the fused rest-of-kernels speedup (the GPU keeps the rest).
"""

from __future__ import annotations

from archsim.arch.kinds import cross_check
from archsim.arch.registry import register_kind
from archsim.arch.schema import Param, choice, count, cycles, nonneg, number, text

register_kind("NGPC", "Neural graphics processing cluster: NFPs of encoding engines and an MLP engine.", {
    "model": text("configuration name (NGPC-8 ...)", default="NGPC"),
    "num_nfps": count("neural field processors in the cluster"),
    "engines": count("input-encoding engines per NFP (one per level; fewer levels: several per level)"),
    "freq_mhz": number("NGPC clock"),
    "grid_sram_bytes": count("grid SRAM per encoding engine"),
    "grid_sram_line_bytes": count("grid SRAM line (the unit filled from L2 on a miss)"),
    "num_grid_sram_banks": count("banks of one grid SRAM"),
    "num_grid_sram_ports": count("read ports of each bank (reads per bank per cycle)", default=1),
    "bank_mapping": choice("which bank a corner read goes to: 'parity' (bank = the corner's coordinate parities: "
                           "the 2^D corners of a query never conflict) or 'index' (bank = entry index mod banks)",
                           ("parity", "index"), default="parity"),
    "pos_fract_cycles": cycles("pipeline stages of pos_fract (scale, split cell and fraction)", default=1),
    "grid_index_cycles": cycles("pipeline stages of grid_index (dense index or XOR hash, mask)", default=1),
    "interp_cycles": cycles("pipeline stages of the interpolation (weights x features, accumulate)", default=2),
    "num_mshrs": count("outstanding line misses per encoding engine"),
    "l2_table_bytes": cycles("capacity of the GPU's L2 the level tables may occupy: the smallest tables that "
                             "fit together are L2-resident, the others stream from DRAM"),
    "l2_latency_cycles": cycles("NGPC cycles from a grid-SRAM miss to its line from the L2"),
    "l2_bw_gb_per_s": number("L2 bandwidth available to the NGPC, shared by all NFPs (1e9 bytes/s)"),
    "dram_latency_cycles": cycles("NGPC cycles from a grid-SRAM miss to its line from DRAM"),
    "dram_bw_gb_per_s": number("DRAM bandwidth available to the NGPC, shared by all NFPs (1e9 bytes/s)"),
    "num_mlp_rows": count("rows of the MLP engine's MAC array (fan-in per pass)"),
    "num_mlp_cols": count("columns of the MLP engine's MAC array (fan-out per pass)"),
    "mlp_weight_load_cycles": cycles("cycles to load one weight tile into the array (not overlapped: one "
                                     "layer at a time)"),
    "technology_nm": number("process node of the area and power figures"),
    "sram_mib_area_mm2": number("area of 1 MiB of grid SRAM at technology_nm (macro incl. periphery)"),
    "encoder_logic_mm2": nonneg("logic area of one encoding engine (pos_fract, grid_index, interpolation)"),
    "mlp_mac_um2": number("area of one fp16 MAC of the MLP engine"),
    "sram_pj_per_access": nonneg("energy of one corner read (one table entry) from the grid SRAM"),
    "mac_pj_per_mac": nonneg("energy of one fp16 multiply, fp32 accumulate of the MLP engine"),
    "l2_pj_per_byte": nonneg("energy of one byte of a line filled from the L2"),
    "dram_pj_per_byte": nonneg("energy of one byte of a line filled from DRAM"),
    "nfp_static_mw": nonneg("leakage of one NFP"),
}, children=False)

register_kind("NgpBaseline", "A GPU's measured time per sample and kernel split for instant-ngp applications.", {
    "model": text("the GPU measured"),
    "freq_mhz": number("GPU clock (the clock of the rest-of-kernels engine's cycles)"),
    "ns_per_sample": Param("dict", "GPU time per sample (a 2-D query for GIA) of each app, ns, hashgrid"),
    "encoding_fraction": Param("dict", "share of the app's GPU time in the input encoding, per encoding"),
    "mlp_fraction": Param("dict", "share of the app's GPU time in the MLPs, per encoding"),
    "encoding_time_ratio": Param("dict", "GPU time per sample of an encoding relative to hashgrid", default={}),
    "rest_fused_speedup_ratio": number("speedup of the fused rest of kernels over the unfused ones"),
    "area_mm2": number("die area"),
    "board_power_w": number("board power"),
}, children=False)


@cross_check("NgpBaseline")
def _baseline_checks(p):
    for key in ("encoding_fraction", "mlp_fraction"):
        for enc, v in p[key].items():
            if not 0 <= v < 1:
                return key, f"expected a fraction in [0, 1) for {enc!r}, got {v!r}"
    for enc in p["encoding_fraction"]:
        if enc not in p["mlp_fraction"]:
            return "mlp_fraction", f"expected an entry for {enc!r} (encoding_fraction has one)"
        if p["encoding_fraction"][enc] + p["mlp_fraction"][enc] >= 1:
            return "mlp_fraction", f"expected encoding + MLP share < 1 for {enc!r}"
    return None


@cross_check("NGPC")
def _ngpc_checks(p):
    if p["grid_sram_bytes"] % p["grid_sram_line_bytes"]:
        return "grid_sram_line_bytes", "expected a divisor of grid_sram_bytes"
    return None
