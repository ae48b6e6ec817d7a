"""Map one mpGEMM onto a LUT Tensor Core GPU: watch the tiling search, then see where the time goes.

    .venv/bin/python examples/lut_tc_tiling.py --arch a100_lut_8x --m 2048 --n 27648 --k 5120 --weights uint1 --act fp16
"""

from __future__ import annotations

import argparse
import sys

from archsim import arch
from archsim.cyclesim.tensor_core import Gemm, Machine, plan_block, simulate_gemm
from archsim.mapper.tensor_core_search import search


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="lut_tensor_core")
    ap.add_argument("--m", type=int, default=2048)
    ap.add_argument("--n", type=int, default=27648)
    ap.add_argument("--k", type=int, default=5120)
    ap.add_argument("--weights", default="uint2", help="uint1..uint4, int2, int4 (storage format)")
    ap.add_argument("--act", default="int8", help="int8, int16, fp16, fp8_e4m3")
    ap.add_argument("--top", type=int, default=4, help="ranked tilings simulated exactly")
    args = ap.parse_args()
    m = Machine.from_spec(arch.load(args.arch))
    g = Gemm(args.m, args.n, args.k, "lut" if m.is_lut else "mac", args.act, args.weights)

    def progress(done, total, msg):
        print(f"\r  [{done:>5}/{total}] {msg[:100]:<100}", end="", file=sys.stderr, flush=True)

    res = search(m, g, top=args.top, progress=progress)
    print(file=sys.stderr)
    t = simulate_gemm(m, g, res.tiling)
    plan = plan_block(m, g, res.tiling)
    peak = m.peak_ops_per_s(g.path, g.w_bits)
    print(f"{m.name}: {g.M}x{g.N}x{g.K} W={args.weights} A={args.act}")
    print(f"  chosen: {res.describe()}")
    print(f"  time {t.seconds(m) * 1e6:.1f} us = {t.cycles:,} cycles; {t.ops_per_s(m) / 1e12:.1f} of {peak / 1e12:.1f} "
          f"TOPs peak ({100 * t.ops_per_s(m) / peak:.0f}%), {t.bound}-bound")
    print(f"  per block and K step: {plan.full.load_bytes:,.0f} B global->shared, {plan.full.smem_bytes:,.0f} B "
          f"shared->registers, {plan.full.warp_cycles} tensor-core cycles per warp, {plan.full.cuda_ops:,.0f} "
          f"CUDA-core ops; {plan.k_steps} steps")
    print(f"  block holds {plan.footprint.smem_bytes:,} B shared memory, {plan.footprint.reg_bytes:,} B registers; "
          f"{plan.footprint.occupancy} per SM ({plan.footprint.limit} bound); {t.blocks} blocks, {t.waves:.2f} waves")
    tc = t.energy_pj.get("tensor_core")
    energy = f"{tc * 1e-6:.1f} uJ" if tc is not None else f"not modelled (no array energy for {args.act})"
    print(f"  DRAM {t.dram_bytes / 1e6:.1f} MB, L2 {t.l2_bytes / 1e6:.1f} MB; tensor-core energy {energy}")


if __name__ == "__main__":
    main()
