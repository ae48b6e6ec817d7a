"""Cycle-accurate GDDR6 and AiM-style PIM DRAM: standards as data, channel/controller model, two fidelities,
an independent timing checker and trace replay.

Modules: :mod:`~archsim.cyclesim.dram.standards` (the rule tables GDDR6_2000 and GDDR6_AiM), :mod:`~.config` (spec ->
resolved configuration), :mod:`~.channel` (earliest-issue state compiled from the rules), :mod:`~.controller`
(in-order PIM, FR-FCFS, refresh, closed-form runs), :mod:`~.engine` (kernel events, block memo, closed-form
repeats), :mod:`~.runmemo` (whole recurring runs), :mod:`~.system` (channels, SYNC, results),
:mod:`~.symmetry` (simulate one of identical channels),
:mod:`~.program` (instructions, blocks, repeats, address mapping), :mod:`~.tracefile` (text formats),
:mod:`~.checker` (independent rule checker).

Python API::

    from archsim import arch
    from archsim.cyclesim.dram import (DramSystem, DramProgram, DramBlock, DramRepeat, mac_abk, wr_gb, rd_mac, replay,
                               check_trace)

    spec = arch.load("pim_gpt")
    dram = DramSystem(spec, mode="burst")          # or spec.component("dram"); mode "command" | "burst"
    prog = DramProgram(dram.cfg.channels)
    tile = DramBlock([mac_abk(row=0, col=0, n=64), rd_mac()])  # a memoizable unit of work (rows relative to 0)
    for ch in range(dram.cfg.channels):
        prog.add(ch, wr_gb(64))                     # input vector into the global buffer
        for g in range(50):
            prog.block(ch, tile.at(row_base=g))     # the same shape on row g: burst mode reuses the first result
        prog.repeat(ch, tile, 3000, row_base=50)    # = tile.at(50 + i) for i < 3000, in closed form
    prog.sync()                                     # barrier: all channels done
    res = dram.run(prog, trace=True)                # -> DramResult
    res.cycles, res.ns, res.commands, res.per_channel, res.per_bank, res.energy_pj, res.row_hit_rate
    assert check_trace(res.trace, spec) == []

    res = replay("gemv.trace", spec, mode="command")   # the text format of cyclesim.dram.tracefile

``DramSystem.run(program, trace=False, start_cycle=None, recurring=False)`` takes a :class:`DramProgram` or a list of per-channel
lists of instruction tuples, :class:`DramBlock` and :class:`DramRepeat` objects; the system keeps its state
between calls (time, open rows, refresh, memo), and each result covers that call only. This is the entry point
for the PIM-GPT mapper: one list per channel, ``SYNC`` where the ASIC needs every channel's results, ``DELAY``
for ASIC work (or a later ``start_cycle``). Refreshes falling due while a channel idles issue at their due
cycles (reported by the run in which the channel next has work). When every channel gets the same list (equal
items in the same order; the same list object is the cheapest to check) burst mode simulates channel 0 only and
replicates it: ``result.simulated_channels`` says so. ``DramSystem.background_pj(start, end)`` is the standby
energy of an idle interval between runs; ``DramSystem.ctls`` gives every channel's up-to-date state.
``recurring=True`` tells burst mode that this program object will be run again (the PIM-GPT weight products):
the whole run is then memoized like a block, keyed on the program with rows relative to its lowest row and
the channel state (see :mod:`~.runmemo`); results do not change. ``DramSystem.advance(program, ...)`` runs like
``run`` but returns only the end cycle, and ``DramSystem.totals(end_cycle)`` reports everything since cycle 0
(commands, energy including the background of idle time, bytes, refreshes): cheaper for a caller that runs
thousands of short programs and needs the sum (the DRAM engine of a Program does this).

``DramSystem(spec, mode, fast_repeat=True, symmetry=True)``: the two burst-mode shortcuts can be switched off
(for tests; results do not change).
"""

from __future__ import annotations

from typing import Any

from archsim.cyclesim.dram.checker import Violation, check_result, check_trace
from archsim.cyclesim.dram.config import DramConfig
from archsim.cyclesim.dram.program import (SYNC, AddressMapping, DramBlock, DramProgram, DramRepeat, act, af, delay, ewmul,
                                   mac_abk, mac_sbk, pre, rd, rd_mac, rd_sbk, wr, wr_bias, wr_gb, wr_sbk)
from archsim.cyclesim.dram.standards import STANDARDS, Rule, Standard, get_standard
from archsim.cyclesim.dram.system import DramResult, DramSystem
from archsim.cyclesim.dram.tracefile import format_command_trace, parse_command_trace, parse_requests


def replay(trace: Any, spec: Any, mode: str = "burst", *, record: bool = False, fmt: str = "auto") -> DramResult:
    """Run a request trace (a path, a text with newlines, or a list of lines) on the ``dram`` of ``spec``.

    ``fmt``: ``archsim`` (our request trace), ``aim`` (the public AiM simulator's trace format, see
    :mod:`archsim.cyclesim.dram.aimtrace`) or ``auto`` (detected from the content). ``record=True`` keeps the
    command trace in ``result.trace``. ``result.cycles`` counts from the start of the run (cycle 0) to the
    completion of the last command; for an AiM trace, :func:`~archsim.cyclesim.dram.aimtrace.aim_cycles` gives
    the AiM simulator's count (ticks until the EOC callback returns).
    """
    from archsim.cyclesim.dram.aimhost import run_aim
    from archsim.cyclesim.dram.aimtrace import parse_any

    system = DramSystem(spec, mode)
    program, fmt = parse_any(trace, system, fmt)
    if fmt == "aim":   # with the host's queue-full stalls (cyclesim.dram.aimhost)
        return run_aim(trace, lambda: DramSystem(spec, mode), record)[0]
    return system.run(program, trace=record)


__all__ = [
    "DramSystem", "DramResult", "DramConfig", "DramProgram", "DramBlock", "DramRepeat", "AddressMapping", "replay",
    "check_trace", "check_result", "Violation", "Standard", "Rule", "STANDARDS", "get_standard",
    "parse_requests", "parse_command_trace", "format_command_trace",
    "rd", "wr", "wr_gb", "mac_abk", "rd_mac", "wr_bias", "ewmul", "af", "mac_sbk", "rd_sbk", "wr_sbk", "act", "pre",
    "delay", "SYNC",
]
