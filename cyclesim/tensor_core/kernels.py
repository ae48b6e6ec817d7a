"""Kernels that are not tiled GEMMs: memory-streaming kernels and fused (flash) attention, as rooflines.

Norms, element-wise ops, activations, RoPE, KV-cache appends, embeddings, the softmax of unfused attention and
the table precompute kernel stream their bytes through HBM and do a few CUDA-core operations per element:
``cycles = max(bytes / sustained HBM bandwidth, ops / CUDA-core rate, exp / SFU rate) + one DRAM latency``.
Inputs are assumed to come from HBM (L2 residency between kernels is not modelled). The cycle-accurate
treatment is reserved for the GEMMs, where the paper's claims are.

Fused attention (FlashAttention-style) keeps scores on chip: its matrix products run on the dense FP16 tensor
cores (head dimension padded to the MMA's K of 16) and its softmax on the CUDA cores and SFUs of the same warps,
so the two add; the kernel is bound by that sum or by streaming Q, K, V and O.
"""

from __future__ import annotations

import math

from archsim.cyclesim.tensor_core.machine import Machine, datapath, round_up


def stream_cycles(machine: Machine, work: dict) -> int:
    """Cycles of one memory-streaming kernel (no launch overhead)."""
    t_mem = work.get("bytes", 0) / machine.hbm_bytes_per_cycle
    t_ops = work.get("ops", 0) / (machine.cuda_ops_per_cycle * machine.sms)
    t_sfu = work.get("sfu_ops", 0) / (machine.sfu_ops_per_cycle * machine.sms)
    busy = max(t_mem, t_ops, t_sfu)
    return math.ceil(busy) + (machine.dram_latency_cycles if busy else 0)


def fused_attention_cycles(machine: Machine, work: dict) -> int:
    """Cycles of a fused attention kernel: ``work`` has ``pairs`` (unmasked query-key pairs), ``head_dim``,
    ``bytes`` (Q, K, V read, O written)."""
    dp = datapath(machine, "dense")
    d = round_up(work["head_dim"], dp.k)
    macs = 2 * work["pairs"] * d  # QK^T and PV
    t_mma = macs / (machine.fp16_macs_per_cycle * machine.sms)
    t_soft = 5 * work["pairs"] / (machine.cuda_ops_per_cycle * machine.sms) + \
        work["pairs"] / (machine.sfu_ops_per_cycle * machine.sms)
    t_mem = work["bytes"] / machine.hbm_bytes_per_cycle
    return math.ceil(max(t_mma + t_soft, t_mem)) + machine.dram_latency_cycles


def fused_attention_macs(work: dict) -> int:
    return 2 * work["pairs"] * round_up(work["head_dim"], 16)
