"""Progress on a terminal only, never in results, and always ended before an error is printed."""

import io
import sys

import pytest

import archsim
from archsim import progress as progress_mod
from archsim.base.errors import MappingError
from archsim.cli import main
from archsim.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def run_cli(monkeypatch, stream, *argv):
    monkeypatch.setattr(sys, "stderr", stream)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    rc = main(list(argv))
    return rc, out.getvalue(), stream.getvalue()


RUN = ("run", "--arch", "pim_gpt", "--workload", "gpt2-small", "--tokens", "2")


def test_run_on_a_terminal_shows_mapping_and_simulation_progress(monkeypatch):
    rc, out, err = run_cli(monkeypatch, FakeTTY(), *RUN)
    assert rc == 0 and "pim_gpt running gpt2-small" in out
    assert "mapping" in err and "12/12" in err          # one step per layer of GPT-2 small
    assert "simulating" in err and "50/50" in err       # 2 tokens x (1 + 2 x 12 layers) blocks
    assert err.endswith("\n")
    assert "\r" not in out                               # results stay clean


@pytest.mark.parametrize("stream, extra", [(io.StringIO(), ()), (FakeTTY(), ("--quiet",)), (FakeTTY(), ("--json",))])
def test_no_progress_off_a_terminal_or_when_quiet(monkeypatch, stream, extra):
    rc, out, err = run_cli(monkeypatch, stream, *RUN, *extra)
    assert rc == 0 and out
    assert err == ""


def test_an_error_during_a_run_ends_the_progress_line_first(monkeypatch):
    def failing_simulate(*args, map_progress=None, **kwargs):
        map_progress(3, 12, "mapping layers")   # a bar is open, its line not ended
        raise MappingError("no room", key="tokens")

    monkeypatch.setattr(archsim, "simulate", failing_simulate)
    rc, _, err = run_cli(monkeypatch, FakeTTY(), *RUN)
    assert rc == 2
    bar, _, rest = err.rpartition("archsim: error: ")
    assert "mapping" in bar and bar.endswith("\n")       # the bar's line ended before the error
    assert rest == "tokens: no room\n"
    assert not progress_mod._OPEN


def test_interrupt_ends_the_progress_line_first(monkeypatch):
    def interrupted(*args, progress=None, **kwargs):
        progress(5, 10)
        raise KeyboardInterrupt

    monkeypatch.setattr(archsim, "simulate", interrupted)
    rc, _, err = run_cli(monkeypatch, FakeTTY(), *RUN)
    assert rc == 130 and err.endswith("\narchsim: interrupted\n") and "simulating" in err


def test_progress_does_not_change_results():
    seen = []
    a = archsim.simulate("pim_gpt", "gpt2-small", tokens=2, map_progress=lambda d, t, w: seen.append((d, t)),
                         progress=lambda d, t: seen.append(("sim", d, t)))
    b = archsim.simulate("pim_gpt", "gpt2-small", tokens=2)
    assert a.to_json() == b.to_json()
    layers = [x for x in seen if x[0] != "sim"]
    assert layers == [(i, 12) for i in range(13)]          # per layer, then done
    assert seen[-1] == ("sim", 50, 50)                        # 2 tokens x (1 + 2 x 12 layers) blocks


def test_gpu_mapping_reports_steps():
    seen = []
    archsim.simulate("t4", "gpt2-small", tokens=3, map_progress=lambda d, t, w: seen.append((d, t)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_progress_object_only_on_a_terminal():
    assert Progress(True, io.StringIO()).callback("x") is None
    assert Progress(False, FakeTTY()).callback("x") is None
    s = FakeTTY()
    p = Progress(True, s)
    cb = p.callback("replaying", "instr")
    cb(5, 10)
    assert "replaying" in s.getvalue() and not s.getvalue().endswith("\n")
    progress_mod.end_all()
    assert s.getvalue().endswith("\n")


def test_watch_reads_a_loop_without_a_callback():
    s = FakeTTY()
    p = Progress(True, s)
    state = {"done": 0}
    with p.watch("replaying", lambda: (state["done"], 4), "instr", interval=0.01):
        for i in range(1, 5):
            state["done"] = i
    assert "4/4" in s.getvalue() and s.getvalue().endswith("\n")


def test_sweep_progress_off_a_terminal(monkeypatch):
    from archsim.dse.runner import _progress

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert _progress(10, 0, None) is None
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    bar = _progress(10, 3, None)
    bar.update(1)
    bar.close()
    assert "4/10" in tty.getvalue()


def test_trace_reader_reports_lines():
    from archsim import arch
    from archsim.cyclesim.dram import DramSystem, parse_requests

    lines = [f"RD 0 0 {i % 64} 0" for i in range(70_000)]
    seen = []
    chans = parse_requests(lines, DramSystem(arch.load("pim_gpt")), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(65_536, 70_000), (70_000, 70_000)]
    assert sum(len(c) for c in chans) == 70_000


def test_dram_replay_on_a_terminal_shows_progress(monkeypatch, tmp_path):
    trace = tmp_path / "t.trace"
    trace.write_text("".join(f"RD {ch} 0 {i} 0\n" for i in range(200) for ch in range(8)))
    rc, out, err = run_cli(monkeypatch, FakeTTY(), "dram", "replay", str(trace), "--arch", "pim_gpt")
    assert rc == 0 and "1,600 requests" in out
    assert "reading trace" in err and "replaying" in err and err.endswith("\n")
    rc, out, err = run_cli(monkeypatch, io.StringIO(), "dram", "replay", str(trace), "--arch", "pim_gpt")
    assert rc == 0 and err == ""
