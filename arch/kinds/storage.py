"""InstInfer's kinds: computational storage drives (NAND flash + drive DRAM + attention engine + PCIe), a plain
NVMe SSD, and FlexGen's offloading cost-model constants for a GPU + CPU + SSD host.

The flash keys of ``ComputationalStorageDrive`` are exactly the fields of
:class:`archsim.cyclesim.flash.FlashConfig` (the cycle model reads them by name).
"""

from archsim.arch.kinds import cross_check
from archsim.arch.registry import register_kind
from archsim.arch.schema import choice, count, nonneg, number, text

PCIE_GENERATIONS = ("gen1", "gen2", "gen3", "gen4", "gen5")

FLASH = {
    "channels": count("flash channels (buses) per drive"),
    "ways": count("dies (LUNs) per channel"),
    "planes": count("planes per die (a multi-plane operation uses several at one block and page)", default=1),
    "blocks_per_plane": count("blocks per plane", default=8192),
    "pages_per_block": count("pages per block", default=256),
    "page_bytes": count("bytes per flash page (the read and program unit)"),
    "t_read_us": number("page read (sense) time tR"),
    "t_prog_us": number("page program time tPROG"),
    "t_erase_us": number("block erase time tBERS"),
    "bus_mt_per_s": number("channel bus transfer rate, mega-transfers per second"),
    "bus_width_bytes": count("channel bus width, bytes per transfer", default=1),
    "read_energy_pj": nonneg("array energy of one page read", default=0.0),
    "prog_energy_pj": nonneg("array energy of one page program", default=0.0),
    "erase_energy_pj": nonneg("array energy of one block erase", default=0.0),
    "bus_energy_pj_per_byte": nonneg("channel-bus energy per byte moved", default=0.0),
}

register_kind("ComputationalStorageDrive",
              "An NVMe drive with NAND flash, drive DRAM and an attention engine (InstInfer); `drives` identical "
              "copies, each on its own PCIe link, peer-to-peer with the GPU.", {
                  "drives": count("identical drives in the system; the KV cache's heads are split across them"),
                  **FLASH,
                  "pcie_generation": choice("PCIe generation of each drive's link", PCIE_GENERATIONS),
                  "pcie_lanes": count("PCIe lanes per drive"),
                  "pcie_efficiency_fraction": number("fraction of the PCIe line rate that carries payload",
                                                     max=1.0),
                  "pcie_energy_pj_per_bit": nonneg("PCIe energy per bit", default=0.0),
                  "dram_bytes": count("drive DRAM (buffers the new K/V until a page fills, holds the FTL)"),
                  "dram_bw_gb_per_s": number("drive DRAM bandwidth"),
                  "engine_freq_mhz": number("attention engine clock"),
                  "dot_product_lanes": count("fp16 multiply-accumulates the engine completes per cycle"),
                  "softmax_lanes": count("exponentials (softmax elements) the engine completes per cycle"),
                  "accumulator_entries": count("output accumulators (one per head channel of the rows in "
                                               "flight)"),
                  "engine_pipeline_cycles": count("latency of one page through the engine", default=0),
                  "filter_gb_per_s": number("token/channel filter throughput per channel in the flash "
                                            "controller (SparF)"),
                  "n_channels_per_packed_page": count("channels of K per page in the channel-indexed copy"),
                  "engine_energy_pj_per_mac": nonneg("energy of one engine MAC", default=0.0),
                  "static_mw": nonneg("drive idle power (controller, DRAM, flash standby)", default=0.0),
              }, children=False)


@cross_check("ComputationalStorageDrive")
def _csd_checks(p):
    if p["page_bytes"] % 2:
        return "page_bytes", f"expected an even number of bytes (fp16 values), got {p['page_bytes']}"
    if (p["page_bytes"] // 2) % p["n_channels_per_packed_page"]:
        return ("n_channels_per_packed_page", f"expected a divisor of the {p['page_bytes'] // 2} fp16 values "
                f"of a page, got {p['n_channels_per_packed_page']}")
    return None


register_kind("NvmeSsd", "A conventional NVMe SSD as a parameter set (FlexGen's offload target).", {
    "model": text("marketing name"),
    "capacity_bytes": count("user capacity"),
    "seq_read_gb_per_s": number("rated sequential read"),
    "seq_write_gb_per_s": number("rated sequential write"),
    "pcie_generation": choice("PCIe generation", PCIE_GENERATIONS),
    "pcie_lanes": count("PCIe lanes"),
}, children=False)

register_kind("FlexGenCostModel",
              "FlexGen's offloading cost model (Sheng et al. 2023, its experimental/cost_model.py): effective "
              "bandwidths and FLOP rates of one GPU + CPU + disk host, and its memory capacities. As in "
              "FlexGen's code, a GB of bandwidth is 2^30 bytes and a TFLOPS 1e12 FLOP/s.", {
                  "gpu_memory_bytes": count("GPU memory the policy may use"),
                  "cpu_memory_bytes": count("host DRAM the policy may use"),
                  "disk_memory_bytes": count("disk space the policy may use"),
                  "memory_headroom_fraction": number("fraction of each capacity a peak may reach (alpha)",
                                                     max=1.0),
                  "ctog_gb_per_s": number("CPU -> GPU copy bandwidth"),
                  "gtoc_cache_gb_per_s": number("GPU -> CPU bandwidth for the KV cache"),
                  "gtoc_hidden_gb_per_s": number("GPU -> CPU bandwidth for activations"),
                  "dtoc_gb_per_s": number("disk -> CPU effective read bandwidth"),
                  "ctod_cache_prefill_gb_per_s": number("CPU -> disk bandwidth for the KV cache in prefill"),
                  "ctod_hidden_prefill_gb_per_s": number("CPU -> disk bandwidth for activations in prefill"),
                  "ctod_decode_gb_per_s": number("CPU -> disk bandwidth in decode"),
                  "mm_prefill_tflops": number("GPU GEMM rate in prefill"),
                  "mm_decode_tflops": number("GPU GEMM rate in decode"),
                  "bmm_prefill_tflops": number("GPU attention batched-matmul rate in prefill"),
                  "bmm_decode_tflops": number("GPU attention batched-matmul rate in decode"),
                  "cpu_attention_tflops": number("CPU attention rate (before the batch/width correction)"),
                  "cpu_c1_ratio": nonneg("CPU-rate correction coefficient c1", default=0.0168),
                  "cpu_c2_ratio": nonneg("CPU-rate correction coefficient c2", default=0.0328),
                  "cpu_c3_ratio": nonneg("CPU-rate correction coefficient c3", default=0.0621),
              }, children=False)
