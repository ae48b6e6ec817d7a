"""Whole-block reuse with a stateful DRAM (burst mode): the PIM-GPT layer blocks are keyed by (block key, tick
phase, DRAM state relative to the block's start and anchor row); reusing them must change nothing.

Expected values are the same run with reuse off (every block simulated): cycles, per-component counters and busy
time, energy by category. Planted faults (a key without the position, a DRAM key without the refresh phase) must
make the comparison fail, so the equality tests cannot pass vacuously.
"""

import pytest

import archsim
from archsim import arch, workloads
from archsim.cyclesim import run as run_module
from archsim.cyclesim.dram import segmemo
from archsim.cyclesim.dram.runmemo import RunShape
from archsim.mapper import pim_gpt
from archsim.mapper.pim_gpt import PimGptMapper

# 12 short layers with a 64 B global buffer: long enough that DRAM states recur between layers (with 3 layers none do)
TINY = workloads.get_model("gpt2-small").scaled(n_layers=12, d_model=64, n_heads=4, d_head=16, d_ff=256,
                                                vocab=97, max_context=64)


def _fingerprint(r):
    return r.cycles, r.components, r.energy_pj, r.energy_joules


def _pair(spec, w):
    on = archsim.simulate(spec, w, mode="burst")
    off = archsim.simulate(spec, w, mode="burst", block_reuse=False)
    return on, off


@pytest.mark.parametrize("model,prompt,tokens", [(TINY, 14, 6), ("gpt2-small", 30, 4)])
def test_reuse_changes_nothing(model, prompt, tokens):
    spec = arch.load("pim_gpt", set={"dram.global_buffer_bytes": 64} if not isinstance(model, str) else None)
    w = workloads.model(model).decode(prompt=prompt, tokens=tokens) if not isinstance(model, str) else \
        workloads.gpt(model).decode(prompt=prompt, tokens=tokens)
    on, off = _pair(spec, w)
    assert on.blocks_reused > 0 and off.blocks_reused == 0          # reuse really happened
    assert _fingerprint(on) == _fingerprint(off)


def test_reuse_with_refresh_overdue_and_tiny_memo(monkeypatch):
    """A memo limit of 3 entries (cleared over and over) gives the same result and says it was cleared."""
    monkeypatch.setattr(run_module, "MEMO_LIMIT", 3)
    spec = arch.load("pim_gpt")
    w = workloads.gpt("gpt2-small").decode(prompt=10, tokens=3)
    on, off = _pair(spec, w)
    assert _fingerprint(on) == _fingerprint(off)
    assert "limit 3," in on.extra["blocks.memo"] and "cleared 0x" not in on.extra["blocks.memo"]


def test_command_mode_equals_burst_mode_with_reuse():
    spec = arch.load("pim_gpt", set={"dram.global_buffer_bytes": 64})
    w = workloads.model(TINY).decode(prompt=20, tokens=4)
    burst = archsim.simulate(spec, w, mode="burst")
    command = archsim.simulate(spec, w, mode="command")
    assert burst.blocks_reused > 0
    assert (burst.cycles, burst.components, burst.energy_pj) == (command.cycles, command.components,
                                                                  command.energy_pj)


def test_blocks_of_equal_key_are_translations_of_each_other():
    """The mapper's claim behind its keys: two blocks with the same key issue the same DRAM programs up to moving
    every row by the difference of their anchors (checked on the programs' row-relative signatures)."""
    spec = arch.load("pim_gpt")
    m = PimGptMapper(TINY, spec, 64)
    seen = {}
    for position in (20, 21):
        for block in m.token_blocks(position):
            if block.key is None:
                continue
            anchor = block.offsets["pim"]
            progs = []
            for cmd in block.materialize():
                if cmd.op == "dram":
                    shape = RunShape(cmd.work["program"][0], m.geo.row_accesses)
                    progs.append((shape.sig, shape.base_row - anchor))
                else:
                    progs.append((cmd.op, tuple(sorted(cmd.work.items()))))
            if block.key in seen:
                assert seen[block.key] == progs, block.label
            else:
                seen[block.key] = progs
    assert any(k[0] == "pim_gpt.between_layers" for k in seen)     # several layers shared a key
    assert any(k[0] == "pim_gpt.attention" and len(v) == 4 for k, v in seen.items())   # lazy blocks compared too


def test_planted_fault_key_without_position_is_caught(monkeypatch):
    """Negative control: keying the attention blocks without the position lets a later position reuse an
    earlier one's attention (a shorter KV cache), and the comparison with reuse off fails."""
    orig = PimGptMapper.token_blocks

    def wrong(self, position):
        blocks = orig(self, position)
        for b in blocks:
            if b.key[0] == "pim_gpt.attention":
                b.key = (b.key[0], -1)              # every position shares one key
        return blocks

    monkeypatch.setattr(PimGptMapper, "token_blocks", wrong)
    spec = arch.load("pim_gpt")
    on, off = _pair(spec, workloads.gpt("gpt2-small").decode(prompt=30, tokens=4))
    assert _fingerprint(on) != _fingerprint(off)


def test_planted_fault_dram_key_without_refresh_phase_is_caught(monkeypatch):
    """Negative control: a DRAM state key that leaves out the refresh due cycle reuses blocks across refresh
    phases, and the comparison with reuse off fails."""
    orig = segmemo.SegmentMemo.key

    def wrong(self, start, anchor):
        got = orig(self, start, anchor)
        if got is None:
            return None
        (tag, off, ready, _due, state), ref = got
        return (tag, off, ready, 0, state), ref

    monkeypatch.setattr(segmemo.SegmentMemo, "key", wrong)
    spec = arch.load("pim_gpt")
    on, off = _pair(spec, workloads.gpt("gpt2-small").decode(prompt=30, tokens=4))
    assert _fingerprint(on) != _fingerprint(off)


@pytest.mark.slow
def test_gpt2_xl_128_tokens_reuse_changes_nothing():
    spec = arch.load("pim_gpt")
    on, off = _pair(spec, workloads.gpt("gpt2-xl").decode(prompt=64, tokens=128))
    assert on.blocks_reused > 128 * 40
    assert _fingerprint(on) == _fingerprint(off)


def test_lazy_program_work_builds_once():
    built = []
    w = pim_gpt._LazyProgramWork(lambda: built.append(1) or ["p"], True)
    assert w["recurring"] is True and not built           # the flag is there without building
    assert w["program"] == ["p"] and w["program"] == ["p"] and built == [1]
    with pytest.raises(KeyError):
        w["other"]


# GPT-2 XL x 128 tokens (prompt 64), burst mode, as simulated by commit 3325b52: before block reuse, the tail memo,
# lazy blocks and the generated rule updates (issue 11 asks the faster simulator to give exactly these figures)
XL128_BEFORE = {"cycles": 683022979, "energy_j": 2.77548327728636, "busy_cycles": 649821315, "commands": {
    "ACT16": 14608316, "ACT": 12740460, "MAC16": 805638144, "MODE_BANK": 17996515, "MODE_REG": 17996523,
    "PREA": 14833418, "PRE": 9365710, "RDMAC16": 17664000, "RD": 25600, "REFab": 1639408, "WRGB": 36966400,
    "WR": 13369344}}


@pytest.mark.slow
def test_gpt2_xl_128_tokens_equals_the_simulator_before_the_speed_work(monkeypatch):
    """The figures of the simulator before issue 11 (recorded above), with and without the tail memo."""
    from archsim.cyclesim.dram import tailmemo

    w = workloads.gpt("gpt2-xl").decode(prompt=64, tokens=128)
    for enabled in (True, False):
        monkeypatch.setattr(tailmemo.TailMemo, "enabled", enabled)
        r = archsim.simulate("pim_gpt", w, mode="burst")
        stats = r.components["pim"]["stats"]
        assert r.cycles == XL128_BEFORE["cycles"]
        assert r.energy_joules == XL128_BEFORE["energy_j"]
        assert stats["busy_cycles"] == XL128_BEFORE["busy_cycles"]
        assert {k[:-len("_commands")]: v for k, v in stats.items()
                if k.endswith("_commands") and k != "dram_commands"} == XL128_BEFORE["commands"]
        assert (int(r.extra["pim.tail_memo"].split()[0]) > 0) == enabled
