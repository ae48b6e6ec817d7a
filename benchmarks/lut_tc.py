"""LUT Tensor Core: wall time to map and simulate all GEMMs of one LLaMA-2-7B decoder layer, at batch 1 and batch
1024 (budget: under 10 s each), and the ratio of simulated time to wall time.

Each GEMM of the layer (QKV, output, gate, up, down; W_INT2 A_FP16 on the LUT arrays) goes through the bounded
tiling search (every candidate ranked, the best few simulated exactly on the per-SM tile pipeline) and the final
simulation, from cold caches.

    .venv/bin/python benchmarks/lut_tc.py [--arch lut_tensor_core] [--bits 2] [--act fp16]
"""

from __future__ import annotations

import argparse
import time

from archsim import arch
from archsim import workloads
from archsim.cyclesim.tensor_core import Gemm, Machine, simulate_gemm
from archsim.cyclesim.tensor_core.pipeline import _simulate
from archsim.mapper.tensor_core_search import _search_cached, search

BUDGET_S = 10.0


def layer_gemms(batch: int, bits: int, act: str) -> list:
    cfg = workloads.get_model("llama2-7b").replace(weight_format="uint", weight_bits=bits, act_format=act)
    graph = workloads.model(cfg).prefill(prompt=1, batch=batch).step(0).graph
    return [op for op in graph.layer_ops(0) if op.kind == "mpgemm"]


def run(machine: Machine, batch: int, bits: int, act: str) -> tuple[float, float, list[str]]:
    _search_cached.cache_clear()
    _simulate.cache_clear()
    t0 = time.perf_counter()
    simulated, lines = 0.0, []
    for op in layer_gemms(batch, bits, act):
        g = Gemm(op.M, op.N, op.K, "lut" if machine.is_lut else "mac", op.act_format, op.w_dtype)
        res = search(machine, g)
        timing = simulate_gemm(machine, g, res.tiling)
        simulated += timing.seconds(machine)
        shape = f"{op.M}x{op.N}x{op.K}"
        lines.append(f"    {op.name.split('.', 1)[1]:<10} {shape:>16}: {timing.seconds(machine) * 1e6:9.1f} us "
                     f"simulated, {timing.ops_per_s(machine) / 1e12:7.1f} TOPs, {res.tiling.describe()}")
    return time.perf_counter() - t0, simulated, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="lut_tensor_core")
    ap.add_argument("--bits", type=int, default=2)
    ap.add_argument("--act", default="fp16")
    args = ap.parse_args()
    machine = Machine.from_spec(arch.load(args.arch))
    for batch in (1, 1024):
        wall, sim, lines = run(machine, batch, args.bits, args.act)
        print(f"{machine.name}: LLaMA-2-7B layer GEMMs W_INT{args.bits} A_{args.act.upper()}, "
              f"batch {batch}: {wall:.2f} s wall (budget < {BUDGET_S:.0f} s: {'ok' if wall < BUDGET_S else 'OVER'}); "
              f"{sim * 1e6:.1f} us simulated; simulated/wall = {sim / wall:.2e} (the model runs {wall / sim:,.0f}x "
              f"slower than the hardware it models)")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
