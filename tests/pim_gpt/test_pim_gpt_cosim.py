"""The PIM-GPT co-simulation executes the emitted program on the data model (cyclesim.dram.functional) and
matches the float64 reference on tiny configurations with position tiling; planted faults in the mapper (kept
here as negative controls) make it fail."""

import numpy as np
import pytest

from archsim import arch, workloads
from archsim.cyclesim.dram.program import OP_WR_GB, OP_SYNC
import archsim.mapper.pim_gpt as pg
import archsim.mapper.pim_gpt_cosim as cosim
from archsim.mapper.pim_gpt_cosim import cosimulate

TINY = workloads.get_model("gpt2-small").scaled(n_layers=2, d_model=64, n_heads=4, d_head=16, d_ff=256,
                                                vocab=97, max_context=40)
TINY2 = workloads.get_model("gpt2-small").scaled(n_layers=1, d_model=96, n_heads=3, d_head=32, d_ff=192,
                                                 vocab=131, max_context=40)
IDS = [3, 17, 5, 60, 2, 9, 11, 40, 1, 7, 33, 21, 4, 8, 15, 16, 23, 42, 50, 51, 52, 1, 2, 3, 5, 8, 13, 21, 34, 55,
       89, 44, 27, 71, 12, 6, 30, 31, 19, 10]

# (config, overrides, tokens): every one has more positions than one global-buffer tile holds
CONFIGS = {
    "tiny-gb16": (TINY, {"dram.global_buffer_bytes": 32}, 24),                        # 4 K-tiles, 2 position tiles
    "tiny-2ch": (TINY, {"dram.global_buffer_bytes": 64, "dram.channels": 2}, 36),      # 2 heads per channel
    "tiny2-gb32": (TINY2, {"dram.global_buffer_bytes": 64}, 40),                       # d_head 32, 2 position tiles
}
BOUND = 0.02  # bf16 storage and the ASIC's approximations: the unmutated mapping stays well inside


def run(name, **kw):
    config, sets, n = CONFIGS[name]
    return cosimulate(config, arch.load("pim_gpt", set=sets), IDS[:n], **kw)


def worst(r) -> float:
    """The worst token's max |logit error| over that token's largest reference |logit|."""
    return float(np.max(r["per_token_rel"]))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_executed_program_matches_reference_with_position_tiling(name):
    config, sets, n = CONFIGS[name]
    r = run(name)
    gb_elems = arch.load("pim_gpt", set=sets)["dram.global_buffer_bytes"] // 2
    assert n > gb_elems and r["positions_tiled"] == -(-n // gb_elems) >= 2
    assert worst(r) < BOUND, worst(r)
    assert r["max_abs"] > 0  # bf16 arithmetic, not the reference again
    # the program really ran: one MAC_ABK column group per output per K-tile and a RD_MAC per output at least
    assert r["counts"]["MAC_ABK"] >= r["counts"]["RD_MAC"] > 0 and r["counts"]["WR_SBK"] > 0


# -- planted faults (negative controls): each must make the co-simulation fail --------------------------------
def _drop_last_k_tile(monkeypatch):
    real = pg.PimGptMapper.vmm

    def vmm(self, name):
        items = list(real(self, name)[0])
        gbs = [i for i, ins in enumerate(items) if type(ins) is tuple and ins[0] == OP_WR_GB]
        if len(gbs) > 1:  # cut the last K-tile: its WR_GB and everything up to the SYNC
            items = items[:gbs[-1]] + [ins for ins in items[gbs[-1]:] if type(ins) is tuple and ins[0] == OP_SYNC]
        return [items] * self.geo.channels

    monkeypatch.setattr(pg.PimGptMapper, "vmm", vmm)


def _half_the_scores(monkeypatch):
    real, emit = pg.PimGptMapper.attention_scores, pg._emit_pattern

    def scores(self, layer, position):
        half = -(-(position + 1) // 2)

        def short(items, *, total, **kw):
            emit(items, total=-(-half // self.geo.banks), **kw)

        monkeypatch.setattr(pg, "_emit_pattern", short)
        try:
            return real(self, layer, position)
        finally:
            monkeypatch.setattr(pg, "_emit_pattern", emit)

    monkeypatch.setattr(pg.PimGptMapper, "attention_scores", scores)


def _no_lm_head(monkeypatch):
    real = pg.PimGptMapper._steps

    def steps(self):
        return [s for s in real(self) if (s.label if isinstance(s, pg.Command) else s[2]) != "lm_head"]

    monkeypatch.setattr(pg.PimGptMapper, "_steps", steps)


def _context_first_tile_only(monkeypatch):
    real = pg.PimGptMapper.attention_context
    monkeypatch.setattr(pg.PimGptMapper, "attention_context",
                        lambda self, layer, kv: real(self, layer, min(kv, self.geo.gb_elems)))


def _two_banks_swapped(monkeypatch):
    real = cosim.load_weights

    def load(mem, layout, name, w):
        real(mem, layout, name, w)
        if name == "L0.fc1":  # banks 0 and 1 of channel 0 hold each other's rows of this matrix
            for t in layout.matrices[name].tiles:
                for r in range(t.row_base, t.row_base + t.rows):
                    row = mem.row(r)
                    row[0, [0, 1]] = row[0, [1, 0]]

    monkeypatch.setattr(cosim, "load_weights", load)


FAULTS = {"drop-last-k-tile": _drop_last_k_tile, "scores-half-positions": _half_the_scores,
          "no-lm-head": _no_lm_head, "context-first-tile-only": _context_first_tile_only,
          "two-banks-swapped": _two_banks_swapped}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_planted_fault_fails_the_cosimulation(fault, monkeypatch):
    FAULTS[fault](monkeypatch)
    r = run("tiny-gb16")
    assert worst(r) > BOUND, (fault, worst(r))
