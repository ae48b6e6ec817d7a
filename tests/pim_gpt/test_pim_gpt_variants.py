"""The PIM-GPT what-if variants (issue 12): each loads and runs; the two new DRAM behaviours follow their rules
(timings computed here from the parameters, every trace through the independent checker, command mode equal
to burst mode); longer K-tiles still compute the right thing; the ladder's rungs move the way they should."""

from __future__ import annotations

import numpy as np
import pytest

from archsim import arch, workloads
import archsim
from archsim.cyclesim.dram import DramProgram, DramSystem, check_trace, mac_abk, rd_mac, wr_gb
from archsim.cyclesim.dram.standards import HIDDEN_BY_SECOND_ROW_BUFFER, hidden_activation
from archsim.mapper.pim_gpt_cosim import cosimulate
from archsim.mapper.pim_gpt_layout import plan
from archsim.reproduce import report as target

VARIANTS = ("pim_gpt_rdmac_bank", "pim_gpt_dual_row_buffer", "pim_gpt_long_ktile", "pim_gpt_no_refresh",
            "t4_fp32", "t4_hf_kernels", "t4_hf_overhead")


def run(spec, prog):
    res = DramSystem(spec, "command").run(prog, trace=True)
    assert check_trace(res.trace, spec) == []
    other = DramSystem(spec, "burst").run(prog, trace=True)
    assert (other.cycles, other.commands, other.trace) == (res.cycles, res.commands, res.trace)
    return res


def seq(res):
    return [(t, c) for t, ch, _b, c, _r, _col in res.trace if ch == 0]


@pytest.mark.parametrize("name", VARIANTS)
def test_each_variant_loads_and_runs_one_token(name):
    spec = arch.load(name)
    r = archsim.simulate(spec, workloads.model("gpt2-small").decode(prompt=16, tokens=1))
    base = archsim.simulate(arch.load("pim_gpt" if name.startswith("pim") else "t4"),
                            workloads.model("gpt2-small").decode(prompt=16, tokens=1))
    assert r.seconds > 0 and r.seconds != base.seconds


# -- RD_MAC in bank mode ---------------------------------------------------------------------------------------
def _outputs_prog(n_outputs=2):
    cols = 64 // n_outputs  # the outputs' segments share one row
    prog = DramProgram(1)
    items = [wr_gb(cols)]
    for o in range(n_outputs):
        items += [mac_abk(3, o * cols, cols), rd_mac()]
    prog.add(0, *items)
    return prog


def test_rdmac_in_bank_mode_needs_no_mode_change_and_keeps_its_two_rules():
    """Bank mode: MODE_REG, WRGB..., MODE_BANK, ACT16, MAC16 x 32, RDMAC16 nCCDL after the last MAC (mac_rdmac),
    the next MAC16 nCLREG + nBL after the RDMAC16 (rdmac_mac), no further mode change."""
    spec = arch.load("pim_gpt_rdmac_bank", set={"dram.refresh": "none"})
    T = DramSystem(spec).cfg.timings
    s = seq(run(spec, _outputs_prog()))
    names = [c for _t, c in s]
    assert names == (["MODE_REG"] + ["WRGB"] * 32 + ["MODE_BANK", "ACT16"] + ["MAC16"] * 32 + ["RDMAC16"]
                     + ["MAC16"] * 32 + ["RDMAC16"])
    rd = [i for i, c in enumerate(names) if c == "RDMAC16"]
    assert s[rd[0]][0] == s[rd[0] - 1][0] + T["nCCDL"]                    # mac_rdmac
    assert s[rd[0] + 1][0] == s[rd[0]][0] + max(T["nCLREG"] + T["nBL"], 1)  # rdmac_mac


def test_shipped_aim_rules_pay_two_mode_changes_per_output():
    """Negative control: the same program on the shipped spec has a MODE_REG before every RDMAC16 and a
    MODE_BANK after it, and is slower by at least 2 x nMODCH per output after the first."""
    ship, bank = arch.load("pim_gpt", set={"dram.refresh": "none"}), arch.load(
        "pim_gpt_rdmac_bank", set={"dram.refresh": "none"})
    T = DramSystem(ship).cfg.timings
    a, b = run(ship, _outputs_prog(4)), run(bank, _outputs_prog(4))
    names = [c for _t, c in seq(a)]
    assert names.count("MODE_REG") == 1 + 4 and names.count("MODE_BANK") == 1 + 3
    assert a.cycles - b.cycles >= 3 * 2 * T["nMODCH"]


# -- second row buffer ------------------------------------------------------------------------------------------
def test_hidden_activation_rule():
    """The latencies a second row buffer changes: precharge and ACT spacing off the critical path; ACT-to-MAC
    keeps what the row's stream does not cover (nRTP + nRP + nRCDRDMAC - row_accesses x nCCDL, at least 0)."""
    cfg = DramSystem(arch.load("pim_gpt")).cfg
    T, lat = cfg.timings, cfg.latencies
    full = hidden_activation(lat, T, 64)
    assert all(full[n] == 0 for n in HIDDEN_BY_SECOND_ROW_BUFFER)
    assert full["rcd_mac"] == max(0, T["nRTP"] + T["nRP"] + T["nRCDRDMAC"] - 64 * T["nCCDL"]) == 0
    short = hidden_activation(lat, T, 16)  # a 16-column row covers only 32 cycles of the 100
    assert short["rcd_mac"] == T["nRTP"] + T["nRP"] + T["nRCDRDMAC"] - 16 * T["nCCDL"] == 68
    assert short["pre_ref"] == lat["pre_ref"] and short["rfc"] == lat["rfc"]  # refresh unchanged
    assert DramSystem(arch.load("pim_gpt_dual_row_buffer")).cfg.latencies == full


def test_dual_row_buffer_streams_rows_back_to_back():
    """MAC_ABK over 3 rows: with one buffer a row switch costs nRTP + PREA + nRP + ACT16 + nRCDRDMAC; with two
    it costs only the PREA and ACT16 command slots (one cycle each on the command bus) and the next MAC's."""
    ship = arch.load("pim_gpt", set={"dram.refresh": "none"})
    dual = arch.load("pim_gpt_dual_row_buffer", set={"dram.refresh": "none"})
    T = DramSystem(ship).cfg.timings
    prog = DramProgram(1)
    prog.add(0, mac_abk(10, 0, 3 * 64))
    for spec, period in ((ship, T["nRCDRDMAC"] + 63 * T["nCCDL"] + T["nRTP"] + T["nRP"]),
                         (dual, 63 * T["nCCDL"] + 3)):
        res = run(spec, prog)
        acts = [t for t, c in seq(res) if c == "ACT16"]
        assert [b - a for a, b in zip(acts, acts[1:])] == [period, period]


# -- longer K-tiles ---------------------------------------------------------------------------------------------
def test_long_ktile_layout_has_one_tile_per_4096_inputs():
    cfg = workloads.get_model("gpt2-xl")
    ship = plan(cfg, arch.load("pim_gpt"), 1088).matrices["L0.fc2"]
    long = plan(cfg, arch.load("pim_gpt_long_ktile"), 1088).matrices["L0.fc2"]
    assert [t.k for t in ship.tiles] == [1024] * 6 + [256]
    assert [t.k for t in long.tiles] == [4096, 2304]
    assert long.tiles[0].accesses == 256 > 64  # one output's MACs span 4 rows before its RD_MAC


def test_k_tiles_spanning_rows_compute_the_right_thing():
    """Co-simulation with 64-value rows and a 1,024-value global buffer: FC2's 256 inputs span 4 rows per
    RD_MAC; with RD_MAC in bank mode and two row buffers too. The logits match the float64 reference."""
    tiny = workloads.get_model("gpt2-small").scaled(n_layers=2, d_model=64, n_heads=4, d_head=16, d_ff=256,
                                                    vocab=97, max_context=40)
    ids = [3, 17, 5, 60, 2, 9, 11, 40, 1, 7, 33, 21]
    for sets in ({"dram.columns": 64}, {"dram.columns": 64, "dram.rdmac_mode": "bank", "dram.num_row_buffers": 2}):
        spec = arch.load("pim_gpt", set=sets)
        assert plan(tiny, spec, len(ids)).matrices["L0.fc2"].tiles[0].accesses == 16 > 4
        r = cosimulate(tiny, spec, ids)
        assert float(np.max(r["per_token_rel"])) < 0.02 and r["max_abs"] > 0


# -- the ladder -------------------------------------------------------------------------------------------------
# Every rung of the shipped ladders (GPT-2 XL) is checked for its direction in test_pim_gpt_reproduce.py, on the
# report the quick reproduction builds anyway.


def test_claim_notes_cite_each_baseline_parameter_with_its_yaml_tag():
    """The notes call a parameter by the tag of its own source: the T4's 10 us per kernel is [assumed], so a
    note can never call it cited. A planted wrong tag is caught by the same check."""
    import re

    t4 = arch.load("t4")
    text = target.cite(t4, "gpu.kernel_overhead_us", "us per kernel")
    assert text == "kernel_overhead_us = 10 us per kernel [assumed]"
    assert target.cite(t4, "gpu.memory_bw_gb_per_s", "GB/s").endswith("[paper reference]")

    def mismatches(note: str, spec) -> list[str]:
        out = []
        for key, tag in re.findall(r"(\w+) = [\d.]+ [^\[\]]*?\[([^\]]+)\]", note):
            comp = next(c for c in spec.walk() if key in c.params)
            if target.tag_of(comp.source_of(key)) != tag:
                out.append(key)
        return out

    assert mismatches(text, t4) == []
    assert mismatches("kernel_overhead_us = 10 us per kernel [cited]", t4) == ["kernel_overhead_us"]
