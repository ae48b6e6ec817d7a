"""Cycle-by-cycle testbench machinery shared by every RTL unit: one stimulus, three interpreters.

A *stimulus* is a list of per-cycle dicts ``{input port name: unsigned value}`` (ports left out are 0). The same
stimulus runs

* in the Amaranth simulator (:func:`simulate`): each cycle the inputs are set, the outputs are sampled once the
  design has settled (before the clock edge), then the clock ticks;
* in Icarus Verilog on the exported Verilog (:func:`icarus_simulate`): the design is reset for two cycles, then
  each cycle the inputs are applied at the falling edge and the outputs printed half a phase later, before the
  rising edge, which is the same sampling point;
* and the units' numpy models, through the unit's own decoding of the sampled outputs.

The result of both simulators is a :class:`Trace` of per-cycle output dicts, compared whole (every output, every
cycle). :func:`verilator_lint` and :func:`yosys_synth` wrap the other two system tools.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from archsim.base.errors import ArchsimError

__all__ = ["Trace", "ports", "simulate", "export_verilog", "icarus_simulate", "verilator_lint", "yosys_synth",
           "SynthStats", "ToolMissing", "TOOL_HINTS", "pack", "unpack", "to_signed"]

TOOL_HINTS = {
    "iverilog": "apt-get install -y iverilog",
    "vvp": "apt-get install -y iverilog",
    "verilator": "apt-get install -y verilator",
    "yosys": "apt-get install -y yosys",
}


class ToolMissing(ArchsimError):
    """A system tool (Icarus Verilog, Verilator, Yosys) is not installed."""


class ToolFailed(ArchsimError):
    """A system tool ran and reported an error."""


def need_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolMissing(f"{tool} is not installed; install it with `{TOOL_HINTS.get(tool, tool)}`")
    return path


# -------------------------------------------------------------------------------------------- bit packing


def pack(values, width: int) -> int:
    """Concatenate ``values`` (element 0 in the lowest bits), each taken modulo 2^width."""
    word, mask = 0, (1 << width) - 1
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * width)
    return word


def to_signed(v: int, width: int) -> int:
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


def unpack(word: int, n: int, width: int, signed: bool = False) -> list[int]:
    """The inverse of :func:`pack`: ``n`` fields of ``width`` bits, optionally two's complement."""
    mask = (1 << width) - 1
    out = [(int(word) >> (i * width)) & mask for i in range(n)]
    return [to_signed(v, width) for v in out] if signed else out


# ------------------------------------------------------------------------------------------------ ports


def ports(dut) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(inputs, outputs) of a flat ``wiring.Component`` as (name, width) lists, in signature order."""
    from amaranth.lib.wiring import Flow

    ins, outs = [], []
    for name, member in dut.signature.members.items():
        if not member.is_port:
            raise TypeError(f"{type(dut).__name__}.{name}: the harness drives flat components only")
        (ins if member.flow == Flow.In else outs).append((name, len(getattr(dut, name))))
    return ins, outs


# --------------------------------------------------------------------------------------------- Amaranth


@dataclass
class Trace:
    """Per-cycle sampled outputs of one run, with the simulator's speed."""

    outputs: list[dict[str, int]]
    wall_s: float
    cpu_s: float = 0.0   # process CPU time of the run: on a shared machine the fairer speed figure

    @property
    def cycles(self) -> int:
        return len(self.outputs)

    @property
    def cycles_per_s(self) -> float:
        return self.cycles / self.wall_s if self.wall_s > 0 else float("inf")

    @property
    def cycles_per_cpu_s(self) -> float:
        return self.cycles / self.cpu_s if self.cpu_s > 0 else float("inf")


def simulate(dut, stimulus: list[dict[str, int]], vcd: str | Path | None = None) -> Trace:
    """Run ``stimulus`` on ``dut`` in the Amaranth simulator and sample every output every cycle.
    ``vcd`` writes a GTKWave-readable waveform of the run."""
    from amaranth.sim import Simulator

    ins, outs = ports(dut)
    in_sigs = [(n, getattr(dut, n)) for n, _ in ins]
    out_sigs = [(n, getattr(dut, n)) for n, _ in outs]
    for i, beat in enumerate(stimulus):
        unknown = set(beat) - {n for n, _ in ins}
        if unknown:
            raise KeyError(f"stimulus cycle {i}: {sorted(unknown)} are not inputs of {type(dut).__name__}")
    sampled: list[dict[str, int]] = []

    async def bench(ctx):
        for beat in stimulus:
            for name, sig in in_sigs:
                ctx.set(sig, beat.get(name, 0))
            sampled.append({name: int(ctx.get(sig)) & ((1 << len(sig)) - 1) for name, sig in out_sigs})
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    t0, c0 = time.perf_counter(), time.process_time()
    if vcd is not None:
        with sim.write_vcd(str(vcd)):
            sim.run()
    else:
        sim.run()
    return Trace(sampled, time.perf_counter() - t0, time.process_time() - c0)


# ------------------------------------------------------------------------------------------ Verilog, tools


def export_verilog(dut, name: str) -> str:
    """The design as Verilog (Amaranth's built-in Yosys), with ports named after the signature members."""
    from amaranth.back import verilog

    return verilog.convert(dut, name=name)


def _port_ref(name: str) -> str:
    """How a port is written in Verilog: Amaranth escapes names that are not plain identifiers or are keywords."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f"\\{name} "


def icarus_simulate(verilog_src: str, top: str, inputs, outputs, stimulus, workdir: str | Path | None = None
                    ) -> list[dict[str, int]]:
    """Simulate exported Verilog in Icarus on ``stimulus``; returns the per-cycle output dicts, sampled at the
    same point as :func:`simulate`. ``inputs``/``outputs`` are the (name, width) lists of :func:`ports`."""
    need_tool("iverilog")
    need_tool("vvp")
    with tempfile.TemporaryDirectory(prefix="archsim-icarus-") as tmp:
        d = Path(workdir) if workdir is not None else Path(tmp)
        d.mkdir(parents=True, exist_ok=True)
        in_w = sum(w for _, w in inputs)
        (d / "dut.v").write_text(verilog_src)
        lines = []
        for beat in stimulus:
            word, off = 0, 0
            for name, w in inputs:
                word |= (int(beat.get(name, 0)) & ((1 << w) - 1)) << off
                off += w
            lines.append(f"{word:x}")
        (d / "stim.hex").write_text("\n".join(lines) + "\n")
        n = len(stimulus)
        decl = [f"reg [{w - 1}:0] in_{name};" for name, w in inputs]
        decl += [f"wire [{w - 1}:0] out_{name};" for name, w in outputs]
        conns = [".clk(clk)", ".rst(rst)"] + [f".{_port_ref(nm)}(in_{nm})" for nm, _ in inputs]
        conns += [f".{_port_ref(nm)}(out_{nm})" for nm, _ in outputs]
        apply, off = [], 0
        for name, w in inputs:
            apply.append(f"in_{name} = stim[i][{off + w - 1}:{off}];")
            off += w
        shown = ", ".join(f"out_{nm}" for nm, _ in outputs)
        fmt = " ".join("%h" for _ in outputs)
        tb = "\n".join([
            "`timescale 1ns/1ps", "module tb;", "reg clk = 0; reg rst; integer i;",
            f"reg [{max(in_w, 1) - 1}:0] stim [0:{max(n, 1) - 1}];", *decl,
            f"{top} dut({', '.join(conns)});", "always #1 clk = ~clk;",
            # inputs and reset change from x after time 0, so that every `always @*` block of the design
            # runs once before the first clock edge (Icarus may not run them for time-0 initializers)
            "initial begin", '$readmemh("stim.hex", stim);', "#0.1;", "rst = 1;",
            *[f"in_{nm} = 0;" for nm, _ in inputs],
            "@(negedge clk); @(negedge clk); rst = 0;",
            f"for (i = 0; i < {n}; i = i + 1) begin",
            *apply, "#0.5;", f'$display("O {fmt}", {shown});', "@(negedge clk);", "end",
            "$finish;", "end", "endmodule", ""])
        (d / "tb.v").write_text(tb)
        build = subprocess.run(["iverilog", "-g2012", "-o", "sim.vvp", "tb.v", "dut.v"], cwd=d,
                               capture_output=True, text=True)
        if build.returncode != 0:
            raise ToolFailed(f"iverilog failed: {build.stderr.strip().splitlines()[:3]}")
        run = subprocess.run(["vvp", "-n", "sim.vvp"], cwd=d, capture_output=True, text=True)
        if run.returncode != 0:
            raise ToolFailed(f"vvp failed: {run.stderr.strip().splitlines()[:3]}")
    rows = [ln.split()[1:] for ln in run.stdout.splitlines() if ln.startswith("O ")]
    out = []
    for row in rows:
        if any(c in v for v in row for c in "xzXZ"):
            raise ToolFailed(f"Icarus produced undefined bits in cycle {len(out)}: {row}")
        out.append({name: int(v, 16) for (name, _), v in zip(outputs, row)})
    return out


def verilator_lint(verilog_src: str, top: str) -> str:
    """``verilator --lint-only -Wall`` (warnings reported, not fatal); returns its messages, raises on errors."""
    need_tool("verilator")
    with tempfile.TemporaryDirectory(prefix="archsim-lint-") as tmp:
        src = Path(tmp) / f"{top}.v"
        src.write_text(verilog_src)
        run = subprocess.run(["verilator", "--lint-only", "-Wall", "-Wno-fatal", "--top-module", top, str(src)],
                             capture_output=True, text=True)
    if run.returncode != 0:
        raise ToolFailed(f"verilator --lint-only failed: {run.stderr.strip()[:500]}")
    return run.stderr


# Gate-equivalent (NAND2 = 1) weights of Yosys's generic gate library, for an area estimate. [assumed: typical
# static-CMOS transistor-count ratios: INV 4T ~ 0.67, NAND2/NOR2 4T = 1, AND2/OR2 6T ~ 1.33, ANDNOT/ORNOT ~ 1.33,
# XOR2/XNOR2 ~ 2.33 (transmission-gate XOR ~ 2), MUX2 ~ 2.33, AOI3/OAI3 1.33, AOI4/OAI4 1.67, a D flip-flop with
# reset ~ 5.67 (the 28 nm library ratio DFFR/NAND2 is 5-6)]
GATE_EQUIVALENTS = {
    "$_NOT_": 0.67, "$_NAND_": 1.0, "$_NOR_": 1.0, "$_AND_": 1.33, "$_OR_": 1.33, "$_ANDNOT_": 1.33,
    "$_ORNOT_": 1.33, "$_XOR_": 2.33, "$_XNOR_": 2.33, "$_MUX_": 2.33, "$_NMUX_": 2.0, "$_AOI3_": 1.33,
    "$_OAI3_": 1.33, "$_AOI4_": 1.67, "$_OAI4_": 1.67, "$_BUF_": 0.67,
}
DFF_GATE_EQUIVALENTS = 5.67
NAND2_UM2 = 0.49
"""[assumed: area of a NAND2 X1 cell in a 28 nm library (about 0.49 um^2), the node the LUT Tensor Core and
PIM-GPT ASIC papers synthesize at; only a scale for the gate-equivalent count, not a layout estimate]"""


@dataclass(frozen=True)
class SynthStats:
    """What ``yosys synth`` (generic gates, no technology library) says about a design."""

    cells: int
    flip_flops: int
    cell_types: dict
    gate_equivalents: float

    @property
    def area_um2(self) -> float:
        return self.gate_equivalents * NAND2_UM2


# Yosys's `synth` fine stage without `memory_map`: memories stay one $mem_v2 cell each (an SRAM macro in silicon)
_FINE_KEEP_MEMORIES = "opt -fast -full; opt -full; techmap; opt -fast; abc -fast; opt -fast; hierarchy -check"


def yosys_synth(verilog_src: str, top: str, keep_memories: bool = False) -> SynthStats:
    """Synthesize with the system ``yosys`` (generic ``synth -flatten``) and count cells and flip-flops.
    ``keep_memories`` runs the same script without ``memory_map``, so a memory counts as one cell (an SRAM
    macro, whose bits the caller reports separately) instead of flip-flops and read multiplexers."""
    need_tool("yosys")
    with tempfile.TemporaryDirectory(prefix="archsim-synth-") as tmp:
        src, js = Path(tmp) / "dut.v", Path(tmp) / "stat.json"
        src.write_text(verilog_src)
        flow = (f"synth -flatten -top {top} -run begin:fine; {_FINE_KEEP_MEMORIES}" if keep_memories
                else f"synth -flatten -top {top}")
        script = f"read_verilog {src}; {flow}; tee -q -o {js} stat -json"
        run = subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
        if run.returncode != 0:
            raise ToolFailed(f"yosys synth failed: {(run.stderr or run.stdout).strip()[:500]}")
        data = json.loads(js.read_text())
    mod = data["modules"].get(f"\\{top}") or next(iter(data["modules"].values()))
    types = {str(k): int(v) for k, v in mod.get("num_cells_by_type", {}).items()}
    ffs = sum(v for k, v in types.items() if "DFF" in k.upper() or "LATCH" in k.upper() or "SR_" in k.upper())
    ge = sum(GATE_EQUIVALENTS.get(k, 1.0) * v for k, v in types.items()
             if "DFF" not in k.upper() and not k.startswith("$mem"))
    ge += DFF_GATE_EQUIVALENTS * ffs
    return SynthStats(cells=int(mod["num_cells"]), flip_flops=ffs, cell_types=types, gate_equivalents=ge)
