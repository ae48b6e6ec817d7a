"""The PIM-GPT side ASIC: vector unit, reduction tree, iterative non-linear units, buffers."""

from archsim.arch.registry import register_kind
from archsim.arch.schema import count, nonneg, number

register_kind("PimAsic", "Small ASIC beside PIM chips: reductions, softmax, LayerNorm, GELU, PIM command issue.", {
    "freq_mhz": number("ASIC clock"),
    "vector_lanes": count("bf16 lanes of the vector unit (elementwise ops per cycle)"),
    "reduction_lanes": count("inputs of the partial-sum reduction tree per cycle"),
    "pipeline_depth_cycles": count("latency of one vector operation through the pipeline", default=4),
    "exp_taylor_terms": count("Taylor-series terms for exp (softmax)"),
    "gelu_taylor_terms": count("Taylor-series terms for the GELU tanh"),
    "recip_nr_iterations": count("Newton-Raphson iterations for 1/x"),
    "rsqrt_nr_iterations": count("Newton-Raphson iterations after the fast inverse square root seed"),
    "sram_bytes": count("on-chip buffer for vectors and partial sums"),
    "energy_pj_per_op": nonneg("energy of one bf16 vector-lane operation", default=0.0),
    "sram_energy_pj_per_byte": nonneg("buffer access energy", default=0.0),
    "static_mw": nonneg("leakage + clock power", default=0.0),
    "area_mm2": nonneg("area", default=0.0),
}, children=False)
