"""GPUs modelled at the tile level, with either LUT tensor cores or MAC tensor cores (LUT Tensor Core paper).

Both kinds share the GPU-level parameters (SMs, clock, HBM, L2, shared memory, register file, CUDA cores, the
dense FP16 path for attention and high-precision GEMMs) and differ in the tensor core that runs the linear
layers:

* ``LutTensorCoreGPU``: every tensor core holds ``lut_arrays_per_tensor_core`` LUT arrays of tile
  ``tile_m x tile_n x tile_k`` (the paper's elongated M2 N64 K4). An array reads one weight bit plane per cycle,
  so one instruction takes W_BIT cycles (bit-serial).
* ``MacTensorCoreGPU``: a multiply-accumulate tensor core of one format (``mac_format``) doing
  ``macs_per_tensor_core_per_cycle`` MACs per cycle on ``tile_m x tile_n x tile_k`` instructions; low-bit
  weights are dequantized on the CUDA cores before the MMA.

The parameters are flat (one component) because the cycle model of a GEMM needs the memory system and the
tensor core at once. Cross checks keep the instruction shapes consistent with the rates and the numerics.
"""

from __future__ import annotations

from archsim.arch.kinds import cross_check
from archsim.arch.registry import register_kind
from archsim.arch.schema import Param, choice, count, cycles, nonneg, number, text

#: Activation formats a LUT array can be built for (paper Table 3; workloads.lut_gemm.ACT_FORMATS).
LUT_ACT_FORMATS = ("int8", "int16", "fp16", "fp8_e4m3")
MAC_FORMATS = ("fp16", "bf16", "int8", "fp8_e4m3")
GROUP_K = 4  # activations per table; the numerics (workloads.lut_gemm.GROUP_K) are built for K = 4

GPU_COMMON: dict[str, Param] = {
    "model": text("what the configuration is (a Table 1 row name)"),
    "sms": count("streaming multiprocessors"),
    "tensor_cores_per_sm": count("tensor cores per SM (one per SM sub-partition)", default=4),
    "freq_mhz": number("SM and tensor-core clock"),
    "memory_bytes": count("device memory capacity (the weights must fit)"),
    "hbm_bw_gb_per_s": number("peak device-memory bandwidth (1e9 bytes/s)"),
    "hbm_efficiency_fraction": number("fraction of the peak HBM bandwidth a streaming kernel sustains",
                                      max=1.0, default=1.0),
    "dram_latency_cycles": cycles("cycles from a global load's issue to its data in shared memory", default=0),
    "l2_bytes": count("L2 cache capacity"),
    "l2_bw_bytes_per_cycle": number("L2 read bandwidth of the whole chip, bytes per SM-clock cycle"),
    "smem_per_sm_bytes": count("shared memory per SM usable by one kernel"),
    "smem_bw_bytes_per_cycle": number("shared-memory bandwidth of one SM (bytes per cycle)"),
    "regfile_per_sm_bytes": count("register file per SM"),
    "warps_per_sm": count("resident warps per SM", default=64),
    "num_blocks_per_sm": count("resident thread blocks per SM", default=32),
    "cuda_core_ops_per_cycle": number("CUDA-core (INT32/FP32 lane) operations per SM per cycle"),
    "sfu_ops_per_cycle": number("special-function (exp) operations per SM per cycle", default=16),
    "fp16_macs_per_sm_per_cycle": count("FP16 MACs per SM per cycle of the dense path (attention, FP16 GEMMs)"),
    "fp16_energy_pj_per_mac": nonneg("energy of one FP16 MAC on the dense path (0: not modelled)", default=0.0),
    "kernel_overhead_us": nonneg("fixed time per launched kernel", default=0.0),
    "hbm_energy_pj_per_bit": nonneg("HBM access energy per bit (0: not modelled)", default=0.0),
    "mma_issue_fraction": number("fraction of the tensor-core instruction rate a warp sustains (1: every "
                                 "instruction issues back to back; below 1: issue, operand-fetch and scheduling "
                                 "losses stretch each warp's tensor-core time)", max=1.0, default=1.0),
}

register_kind("LutTensorCoreGPU", "A GPU whose tensor cores are LUT arrays (LUT Tensor Core), tile-level model.", {
    **GPU_COMMON,
    "lut_arrays_per_tensor_core": count("LUT arrays per tensor core (the paper's N in 'A100-LUT-NX')"),
    "tile_m": count("rows of activations one array's tables come from (M of the array tile)", default=2),
    "tile_n": count("output columns one array's tables are broadcast to (N of the array tile)", default=64),
    "tile_k": count("activations per table (K of the array tile)", default=4),
    "array_stacking": choice("how a tensor core's arrays form one lmma instruction: 'm' stacks them along M "
                             "(own tables, shared weight bits), 'n' along N (one table set broadcast wider)",
                             ("m", "n"), default="m"),
    "max_weight_bits": count("widest weight format (bit-serial planes)", default=4),
    "act_formats": text("comma-separated activation formats the arrays accept", default="int8,int16,fp16,fp8_e4m3"),
    "table_bits": count("stored width of one precomputed table entry (the RTL's A_LUT_BIT); below the exact "
                        "width the tables are quantized with one FP16 scale per table"),
    "table_scale_bytes": nonneg("bytes of scale stored per quantized table (2: one FP16 scale per table; a "
                                "coarser scale, e.g. one per row, amortizes to about 0)", default=2.0),
    "array_area_um2": Param("dict", "area of one array by activation format it is built for (um^2)", default={}),
    "array_energy_pj": Param("dict", "energy of one array for one active cycle, by activation format (pJ)",
                             default={}),
}, children=False)

register_kind("MacTensorCoreGPU", "A GPU with multiply-accumulate tensor cores of one format, tile-level model.", {
    **GPU_COMMON,
    "mac_format": choice("operand format of the MAC array", MAC_FORMATS),
    "macs_per_tensor_core_per_cycle": count("MACs one tensor core completes per cycle"),
    "tile_m": count("M of one MMA instruction", default=16),
    "tile_n": count("N of one MMA instruction", default=8),
    "tile_k": count("K of one MMA instruction", default=16),
    "tensor_core_area_mm2": nonneg("area of one tensor core (0: unknown)", default=0.0),
    "mac_energy_pj_per_mac": nonneg("energy of one MAC (0: not modelled)", default=0.0),
    "n_dequant_ops_per_weight": nonneg("CUDA-core lane operations to unpack one low-bit weight to the MAC "
                                       "format", default=1.0),
}, children=False)


def _dense_check(p):
    tc_rate = p["fp16_macs_per_sm_per_cycle"] / p["tensor_cores_per_sm"]
    if tc_rate != int(tc_rate) or 16 * 8 * 16 % int(tc_rate):
        return ("fp16_macs_per_sm_per_cycle", f"expected a multiple of tensor_cores_per_sm whose per-core rate "
                f"divides 2048 (one m16n8k16 FP16 MMA), got {p['fp16_macs_per_sm_per_cycle']}")
    return None


@cross_check("LutTensorCoreGPU")
def _lut_checks(p):
    if p["tile_k"] != GROUP_K:
        return "tile_k", f"expected {GROUP_K} (activations per table, workloads.lut_gemm.GROUP_K), got {p['tile_k']}"
    if p["tile_m"] % 2 and p["tile_m"] != 1:
        return "tile_m", f"expected 1 or an even number of rows, got {p['tile_m']}"
    if not 1 <= p["max_weight_bits"] <= 4:
        return "max_weight_bits", f"expected 1..4 (INT1-INT4 weights), got {p['max_weight_bits']}"
    fmts = [f.strip() for f in p["act_formats"].split(",") if f.strip()]
    bad = [f for f in fmts if f not in LUT_ACT_FORMATS]
    if not fmts or bad:
        return ("act_formats", f"expected a comma-separated subset of {', '.join(LUT_ACT_FORMATS)}, "
                f"got {p['act_formats']!r}")
    for key in ("array_area_um2", "array_energy_pj"):
        extra = sorted(set(p[key]) - set(fmts))
        if extra:
            return key, f"expected keys among the act_formats ({', '.join(fmts)}), got {extra[0]!r}"
    if not 2 <= p["table_bits"] <= 32:
        return "table_bits", f"expected 2..32 bits per table entry, got {p['table_bits']}"
    return _dense_check(p)


@cross_check("MacTensorCoreGPU")
def _mac_checks(p):
    macs = p["tile_m"] * p["tile_n"] * p["tile_k"]
    if macs % p["macs_per_tensor_core_per_cycle"]:
        return ("macs_per_tensor_core_per_cycle", f"expected a divisor of tile_m x tile_n x tile_k = {macs} "
                f"(an MMA takes a whole number of cycles), got {p['macs_per_tensor_core_per_cycle']}")
    return _dense_check(p)
