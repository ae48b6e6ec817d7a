"""Helpers shared by the DRAM tests: small specs and a seeded generator of random DRAM programs."""

from __future__ import annotations

import random

import arch
from cyclesim.dram import DramBlock, DramProgram
from cyclesim.dram import program as P

GDDR6_YAML = """
name: gddr6_test
family: test
components:
  dram:
    impl: GDDR6
    channels: {channels}
    freq_mhz: 2000
    timing_preset: GDDR6_2000
    refresh: {refresh}
    request_queue_entries: {queue}
    timing_cycles: {timings}
    act_energy_pj: 1000.0
    rd_energy_pj: 500.0
    wr_energy_pj: 600.0
    io_energy_pj_per_bit: 5.5
    ref_energy_pj: 20000.0
    act_standby_mw: 250.0
    pre_standby_mw: 180.0
"""


def gddr6_spec(channels=2, refresh="all_bank", queue=32, timings=None):
    return arch.load_text(GDDR6_YAML.format(channels=channels, refresh=refresh, queue=queue,
                                            timings=timings or {}))


def aim_spec(**overrides):
    return arch.load("pim_gpt", set={f"dram.{k}": v for k, v in overrides.items()} or None)


def random_program(rng: random.Random, cfg, items: int, *, pim: bool) -> DramProgram:
    """A seeded random mix of ordinary requests and (if ``pim``) PIM instructions across channels and banks,
    with SYNCs, DELAYs and blocks (some repeated, some the same shape on other rows) to exercise the memo."""
    prog = DramProgram(cfg.channels)
    ra = cfg.row_accesses
    banks = rng.sample(range(cfg.banks), k=min(cfg.banks, rng.choice((1, 2, 4, cfg.banks))))
    rows = rng.sample(range(cfg.rows - 200), k=rng.choice((1, 2, 3, 6)))
    chans = list(range(cfg.channels))

    def one():
        k = rng.random()
        if not pim or k < 0.35:
            op = P.rd if rng.random() < 0.7 else P.wr
            return op(rng.choice(banks), rng.choice(rows), rng.randrange(ra))
        k = rng.random()
        row = rng.choice(rows)
        col = rng.randrange(ra)
        if k < 0.30:
            return P.mac_abk(row, col, rng.choice((1, 4, 16, 64, 100)))
        if k < 0.40:
            return P.wr_gb(rng.choice((1, 8, 64)))
        if k < 0.50:
            return P.rd_mac(rng.choice((1, 2)))
        if k < 0.55:
            return P.wr_bias()
        if k < 0.60:
            return P.ewmul(row, col, rng.choice((1, 8)))
        if k < 0.63:
            return P.af(row)
        if k < 0.73:
            return rng.choice((P.mac_sbk, P.rd_sbk, P.wr_sbk))(rng.choice(banks), row, col, rng.choice((1, 5, 30)))
        if k < 0.80:
            return P.act(row, rng.choice((-1, rng.choice(banks))))
        if k < 0.86:
            return P.pre(rng.choice((-1, rng.choice(banks))))
        return P.delay(rng.choice((0, 3, 50)))

    saved: list = []
    n = 0
    while n < items:
        k = rng.random()
        if k < 0.03:
            prog.sync()
            n += 1
            continue
        ch = rng.choice(chans)
        if k < 0.15:
            if saved and rng.random() < 0.6:
                blk = rng.choice(saved)
                if rng.random() < 0.5:  # the same shape on other rows
                    shift = rng.randrange(1, 50)
                    blk = DramBlock(tuple((i[0], i[1], i[2] + shift if i[2] >= 0 else -1, i[3], i[4])
                                          for i in blk.instrs))
            else:
                blk = DramBlock([one() for _ in range(rng.randrange(1, 8))])
                saved.append(blk)
            for _ in range(rng.choice((1, 1, 3))):
                prog.block(ch, blk)
            n += len(blk)
            continue
        for _ in range(rng.randrange(1, 6)):
            prog.add(ch, one())
            n += 1
    return prog
