"""PIM-GPT mapping: layout covers every weight once and fits (or says why not), the mapped arithmetic matches
the reference, command streams obey every timing rule, and command mode equals burst mode."""

import pytest

from archsim import arch
import archsim
from archsim import workloads
from archsim.base.errors import MappingError
from archsim.cyclesim.dram import DramSystem, check_trace
from archsim.mapper.pim_gpt import PimGptMapper
from archsim.mapper.pim_gpt_layout import plan

TINY = workloads.get_model("gpt2-small").scaled(n_layers=2, d_model=64, n_heads=4, d_head=16, d_ff=256,
                                                vocab=97, max_context=32)
TINY2 = workloads.get_model("gpt2-small").scaled(n_layers=1, d_model=96, n_heads=3, d_head=32, d_ff=192,
                                                 vocab=131, max_context=40)


def test_layout_covers_every_weight_and_rows_do_not_overlap():
    spec = arch.load("pim_gpt")
    cfg = workloads.get_model("gpt2-xl")
    lay = plan(cfg, spec, 1088)
    geo = lay.geometry
    spans = []
    for name, m in lay.matrices.items():
        assert sum(t.k for t in m.tiles) == m.k  # the K-tiles cover the input exactly once
        assert all(t.k <= geo.gb_elems for t in m.tiles)
        assert m.slots * geo.banks * geo.channels >= m.n > (m.slots - 1) * geo.banks * geo.channels
        for t in m.tiles:
            assert t.rows * geo.row_accesses >= m.slots * t.accesses  # every output segment has room
            spans.append((t.row_base, t.row_base + t.rows))
    for kc in lay.kcache.values():
        spans.append((kc.row_base, kc.row_base + kc.rows))
        assert kc.rows * kc.per_row * geo.banks >= 1088
    for vc in lay.vcache.values():
        spans.append((vc.row_base, vc.row_base + vc.rows))
    spans.sort()
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert spans[-1][1] <= lay.rows_used <= geo.rows
    # the padded layout holds at least the model's bf16 weights
    assert lay.bytes_used >= cfg.param_count(with_embeddings=False) * 2


def test_capacity_error_says_needed_and_available():
    with pytest.raises(MappingError, match=r"gpt2-xl with KV space for 1088 tokens needs [\d,]+ rows per bank "
                                           r"\([\d.]+ GiB with padding\) but a bank has 16,384 \(2.00 GiB in 4 "
                                           r"channels x 16 banks\)"):
        plan(workloads.get_model("gpt2-xl"), arch.load("pim_gpt", set={"dram.channels": 4}), 1088)
    with pytest.raises(MappingError, match="maps GPT-style models"):
        archsim.simulate("pim_gpt", "llama2-7b", prompt=4, tokens=1)


def test_every_pim_command_stream_obeys_the_timing_rules():
    spec = arch.load("pim_gpt", set={"dram.global_buffer_bytes": 64})
    m = PimGptMapper(TINY, spec, 40)
    dram = DramSystem(spec, mode="burst")
    trace = []  # the state carries over between runs, so the checker reads the whole sequence
    for position in (36, 37):  # position 37: attention spans several K-cache rows
        for cmd in m.token_block(0, position).commands:
            if cmd.op == "dram":
                trace.extend(dram.run(cmd.work["program"], trace=True, start_cycle=dram.now + 50).trace)
    assert len(trace) > 1000 and {"MAC16", "RDMAC16", "WRGB", "ACT16", "REFab"} <= {t[3] for t in trace}
    assert check_trace(trace, spec) == []


def test_command_mode_equals_burst_mode():
    spec = arch.load("pim_gpt", set={"dram.global_buffer_bytes": 64})
    w = workloads.model(TINY).decode(prompt=5, tokens=3)
    a = archsim.simulate(spec, w, mode="burst")
    b = archsim.simulate(spec, w, mode="command")
    assert (a.cycles, a.components, a.energy_pj) == (b.cycles, b.components, b.energy_pj)
    assert a.extra["pim.row_hit_rate"] == b.extra["pim.row_hit_rate"] > 0.5


def test_run_reports_cycles_time_energy_per_component(capsys):
    from archsim.cli import main

    rc = main(["run", "--arch", "pim_gpt", "--workload", "gpt2-small", "--prompt", "4", "--tokens", "1", "--json"])
    import json

    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["cycles"] > 0 and doc["energy_joules"] > 0 and doc["clock"] == "pim"
    assert set(doc["components"]) == {"pim", "asic"}
    assert doc["components"]["pim"]["stats"]["MAC16_commands"] > 0
