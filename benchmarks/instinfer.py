"""InstInfer end to end: wall time of OPT-13B, batch 16, 1,024 prompt + 1,024 generated tokens on one drive
(prefill + decode, mapping included; budget: under 60 s), the same with SparF, and the flash event model's rate.

    .venv/bin/python benchmarks/instinfer.py [--model opt-13b] [--batch 16] [--prompt 1024] [--tokens 1024]
"""

from __future__ import annotations

import argparse
import resource
import time

import archsim
from archsim import arch
from archsim.cyclesim.flash import FlashConfig
from archsim.cyclesim.flash.device import run_striped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="opt-13b")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--prompt", type=int, default=1024)
    ap.add_argument("--tokens", type=int, default=1024)
    args = ap.parse_args()
    for sparf in (False, True):
        t0 = time.perf_counter()
        r = archsim.simulate("instinfer", args.model, prompt=args.prompt, tokens=args.tokens, batch=args.batch,
                             sparf=sparf)
        wall = time.perf_counter() - t0
        print(f"{'SparF' if sparf else 'dense'}: {args.model}, batch {args.batch}, {args.prompt} + {args.tokens} "
              f"tokens: {wall:.2f} s wall (budget < 60 s); simulated {r.seconds:,.1f} s = "
              f"{args.batch * args.tokens / r.seconds:.3f} tokens/s; {r.commands:,} commands, "
              f"{r.blocks_simulated:,} blocks simulated, {r.blocks_reused:,} reused")
    cfg = FlashConfig.from_params(arch.load("instinfer").component("csd").params)
    n = 20000
    t0 = time.perf_counter()
    end, _ = run_striped(cfg, n)
    wall = time.perf_counter() - t0
    print(f"flash event model: {n:,} page reads (3 events each) in {wall:.2f} s = {n / wall:,.0f} pages/s; "
          f"simulated {end / 1e6:,.1f} us = {n * cfg.page_bytes / (end / 1e12) / 1e9:.2f} GB/s")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
