"""Helpers shared by the DRAM tests: small specs and a seeded generator of random DRAM programs."""

from __future__ import annotations

import random

from archsim import arch
from archsim.cyclesim.dram import DramBlock, DramProgram, DramRepeat
from archsim.cyclesim.dram import program as P

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


# the configurations the random agreement tests cycle through: (spec maker, overrides, has PIM commands)
SPECS = {
    "aim": (aim_spec, {}, True),
    "aim_fast_refresh_q4": (aim_spec, {"timing_cycles": {"nREFI": 400}, "request_queue_entries": 4}, True),
    "gddr6": (gddr6_spec, {}, False),
    "gddr6_faw_q3": (gddr6_spec, {"timings": {"nFAW": 40, "nREFI": 600}, "queue": 3}, False),
}
_cache: dict = {}


def spec_of(name):
    if name not in _cache:
        make, kw, _pim = SPECS[name]
        _cache[name] = make(**kw)
    return _cache[name]


def same(a, b) -> None:
    """Two DramResults agree exactly: cycles, every counter, energy and the command trace."""
    assert a.cycles == b.cycles and a.end_cycle == b.end_cycle
    assert a.commands == b.commands
    assert a.per_channel == b.per_channel
    assert a.per_bank == b.per_bank
    assert a.energy_pj == b.energy_pj
    assert (a.bus_bytes, a.bank_bytes, a.bank_activations, a.bank_accesses, a.refreshes) == \
           (b.bus_bytes, b.bank_bytes, b.bank_activations, b.bank_accesses, b.refreshes)
    assert a.channel_cycles == b.channel_cycles
    assert a.trace == b.trace


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


def random_tile(rng: random.Random, cfg, *, pim: bool) -> list:
    """Instructions with rows relative to 0 for one repeat tile: mostly the PIM-GPT row segments, sometimes
    a random mix (ordinary requests in a FR-FCFS window, single-bank ops, explicit ACT/PRE, DELAY)."""
    ra = cfg.row_accesses
    k = rng.random()
    if pim and k < 0.35:
        return [P.mac_abk(0, 0, ra), P.rd_mac()]
    if pim and k < 0.55:
        half = ra // 2
        return [P.mac_abk(0, 0, half), P.rd_mac(), P.mac_abk(0, half, half), P.rd_mac()]
    if pim and k < 0.65:
        return [P.mac_abk(0, rng.randrange(ra), rng.choice((8, 40, ra + 8))), P.rd_mac(rng.choice((1, 2)))]
    banks = rng.sample(range(cfg.banks), k=min(cfg.banks, rng.choice((1, 2, 4))))
    tile = []
    for _ in range(rng.randrange(1, 7)):
        row = rng.choice((0, 0, 1, 2))
        col = rng.randrange(ra)
        j = rng.random()
        if not pim or j < 0.3:
            tile.append((P.rd if rng.random() < 0.7 else P.wr)(rng.choice(banks), row, col))
        elif j < 0.5:
            tile.append(P.mac_abk(row, col, rng.choice((1, 16, 64))))
        elif j < 0.6:
            tile.append(P.rd_mac())
        elif j < 0.65:
            tile.append(P.wr_gb(rng.choice((1, 8))))
        elif j < 0.75:
            tile.append(rng.choice((P.mac_sbk, P.rd_sbk, P.wr_sbk))(rng.choice(banks), row, col, rng.choice((1, 5))))
        elif j < 0.8:
            tile.append(P.ewmul(row, col, 4))
        elif j < 0.85:
            tile.append(P.act(row, rng.choice((-1, rng.choice(banks)))))
        elif j < 0.9:
            tile.append(P.pre(rng.choice((-1, rng.choice(banks)))))
        else:
            tile.append(P.delay(rng.choice((0, 7, 300))))
    return tile


def random_repeat(rng: random.Random, cfg, *, pim: bool, max_count: int = 300) -> DramRepeat:
    """A repeat of a random tile: counts up to ``max_count``, strides 0, 1, 2, 3 or -1, rows in range."""
    tile = DramBlock(random_tile(rng, cfg, pim=pim), row_base=0)
    count = rng.choice((1, 2, 3, 7, 25, 60, max_count // 2, max_count))
    stride = rng.choice((1, 1, 1, 2, 3, 0, -1))
    top = tile.shape.rows(cfg.row_accesses)[1]
    span = (count - 1) * abs(stride)
    lo = span if stride < 0 else 0
    base = rng.randrange(lo, cfg.rows - top - (0 if stride < 0 else span))
    return DramRepeat(tile, count, base, stride)


def random_repeat_program(rng: random.Random, cfg, items: int, *, pim: bool, symmetric: bool,
                          max_count: int = 300) -> DramProgram:
    """PIM-GPT-like programs: per step WR_GB, repeats (and a few plain items), then SYNC and sometimes a DELAY.
    ``symmetric``: every channel gets the same stream (sometimes with a different tail after a SYNC, so the
    channels split); otherwise each channel gets its own."""
    prog = DramProgram(cfg.channels)
    chans = range(cfg.channels)
    streams = [[] for _ in chans]
    n = 0
    while n < items:
        if symmetric:
            step = _repeat_step(rng, cfg, pim=pim, max_count=max_count)
            for s in streams:
                s.extend(step)
        else:
            for s in streams:
                if rng.random() < 0.8:
                    s.extend(_repeat_step(rng, cfg, pim=pim, max_count=max_count))
        for s in streams:
            s.append(P.SYNC)
        n += 1
    if symmetric and rng.random() < 0.3:   # a different tail on one channel: the channels split at a SYNC
        streams[rng.randrange(cfg.channels)].extend(_repeat_step(rng, cfg, pim=pim, max_count=max_count))
    for ch, s in enumerate(streams):
        prog.extend(ch, s)
    return prog


def _repeat_step(rng, cfg, *, pim: bool, max_count: int) -> list:
    out = []
    if pim:
        out.append(P.wr_gb(rng.choice((16, 64))))
    for _ in range(rng.choice((1, 1, 2))):
        out.append(random_repeat(rng, cfg, pim=pim, max_count=max_count))
    if rng.random() < 0.3:
        out.append(P.delay(rng.choice((50, 2000, 9000))))
    if rng.random() < 0.2:
        out.append((P.rd if rng.random() < 0.5 else P.wr)(rng.randrange(cfg.banks), rng.randrange(100), 3))
    return out
