"""Text formats: the request trace that ``archsim dram replay`` reads, and the command trace it writes.

Request trace (one request or PIM instruction per line; ``#`` starts a comment; numbers are decimal or 0x hex;
``CH`` may be ``*`` for every channel; ``COL`` counts column accesses of device_width x burst_length bits)::

    RD ADDR                      ordinary read of a byte address (split by the spec's address_mapping)
    WR ADDR                      ordinary write
    RD CH BANK ROW COL           ordinary read / write at explicit coordinates
    WR CH BANK ROW COL
    WR_GB CH N [COL]             write N global-buffer columns (the broadcast input vector)
    MAC_ABK CH ROW COL N         all-bank MAC over N columns of ROW from COL (op size N; spills into ROW+1)
    RD_MAC CH [N]                read the MAC result registers of all banks
    WR_BIAS CH [N]               write the MAC result registers of all banks
    EWMUL CH ROW COL N           all-bank element-wise multiply over N columns
    AF CH ROW                    activation-function lookup in all banks
    MAC_SBK CH BANK ROW COL N    single-bank MAC (also RD_SBK, WR_SBK: in-order single-bank reads/writes)
    ACT CH ROW | ACT CH BANK ROW all-bank (ACT16) or one-bank activate
    PRE CH | PRE CH BANK         precharge all banks (PREA) or one bank
    DELAY CH CYCLES              wait for the channel's commands to finish, then CYCLES more
    SYNC                         barrier: every channel waits until all channels are done
    BLOCK ... END                group the lines between into one block per channel (burst-mode memo unit)

Command trace (the checker's input): ``CYCLE CHANNEL BANK COMMAND ROW COL`` per line, ``-`` where a field does
not apply (the bank of a channel-wide command, the row of a precharge), cycles in the DRAM command clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from archsim.base.errors import SimulationError, TraceError
from archsim.cyclesim.dram.program import (OP_ACT, OP_CODES, OP_DELAY, OP_PRE, OP_RD, OP_WR, SYNC, DramBlock,
                                   validate_instr)

# op -> (positional fields after CH, optional trailing fields with defaults)
_SHAPES = {
    "WR_GB": (("n",), (("col", 0),)),
    "MAC_ABK": (("row", "col", "n"), ()),
    "RD_MAC": ((), (("n", 1),)),
    "WR_BIAS": ((), (("n", 1),)),
    "EWMUL": (("row", "col", "n"), ()),
    "AF": (("row",), ()),
    "MAC_SBK": (("bank", "row", "col", "n"), ()),
    "RD_SBK": (("bank", "row", "col", "n"), ()),
    "WR_SBK": (("bank", "row", "col", "n"), ()),
}


def parse_int(tok: str, what: str, line_no: int, file) -> int:
    try:
        v = int(tok, 0)
    except ValueError:
        raise TraceError(f"line {line_no}: expected an integer {what}, got {tok!r}", file=file) from None
    if v < 0:
        raise TraceError(f"line {line_no}: {what} must not be negative, got {v}", file=file)
    return v


def read_lines(source) -> tuple[list[str], str | None]:
    """``source``: a path, or an iterable of lines. Returns (lines, file name for messages)."""
    if isinstance(source, (str, Path)) and "\n" not in str(source):
        path = Path(source)
        try:
            return path.read_text(encoding="utf-8").splitlines(), str(path)
        except FileNotFoundError:
            raise TraceError("no such trace file", file=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TraceError(f"cannot read the trace: {exc}", file=str(path)) from None
    if isinstance(source, str):
        return source.splitlines(), None
    return [str(x) for x in source], None


def parse_requests(source, system, progress=None) -> list[list]:
    """Parse a request trace into per-channel instruction lists for ``system`` (a :class:`DramSystem`).
    ``progress(lines_done, lines_total)``, if given, is called every 65,536 lines and at the end."""
    lines, file = read_lines(source)
    cfg = system.cfg
    chans: list[list] = [[] for _ in range(cfg.channels)]
    block: list[list] | None = None
    block_line = 0
    n_lines = len(lines)
    for no, raw in enumerate(lines, 1):
        if progress is not None and not no & 0xFFFF:
            progress(no, n_lines)
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        tok = text.split()
        op = tok[0].upper()
        args = tok[1:]
        if op == "BLOCK":
            if block is not None:
                raise TraceError(f"line {no}: BLOCK inside the BLOCK of line {block_line} (blocks do not nest)",
                                 file=file)
            if args:
                raise TraceError(f"line {no}: BLOCK takes no arguments", file=file)
            block, block_line = [[] for _ in range(cfg.channels)], no
            continue
        if op == "END":
            if block is None:
                raise TraceError(f"line {no}: END without BLOCK", file=file)
            for ch, ins in enumerate(block):
                if ins:
                    chans[ch].append(DramBlock(ins))
            block = None
            continue
        if op == "SYNC":
            if args:
                raise TraceError(f"line {no}: SYNC takes no arguments", file=file)
            if block is not None:
                raise TraceError(f"line {no}: SYNC inside the BLOCK of line {block_line}", file=file)
            for lst in chans:
                lst.append(SYNC)
            continue
        target = block if block is not None else chans
        try:
            for ch, ins in _parse_instr(op, args, no, file, system):
                validate_instr(ins, cfg)
                target[ch].append(ins)
        except SimulationError as exc:
            raise TraceError(f"line {no}: {exc.detail}", file=file) from None
    if block is not None:
        raise TraceError(f"line {block_line}: BLOCK is never closed by END", file=file)
    if progress is not None:
        progress(n_lines, n_lines)
    return chans


def _parse_instr(op: str, args: list[str], no: int, file, system):
    cfg = system.cfg

    def chan(tok: str) -> list[int]:
        if tok == "*":
            return list(range(cfg.channels))
        c = parse_int(tok, "channel", no, file)
        if c >= cfg.channels:
            raise TraceError(f"line {no}: channel {c} out of range 0..{cfg.channels - 1}", file=file)
        return [c]

    if op in ("RD", "WR"):
        code = OP_RD if op == "RD" else OP_WR
        if len(args) == 1:
            ch, bank, row, col = system.decode(parse_int(args[0], "address", no, file))
            return [(ch, (code, bank, row, col, 1))]
        if len(args) == 4:
            chs = chan(args[0])
            bank, row, col = (parse_int(a, w, no, file) for a, w in zip(args[1:], ("bank", "row", "column")))
            return [(c, (code, bank, row, col, 1)) for c in chs]
        raise TraceError(f"line {no}: {op} takes ADDR or CH BANK ROW COL, got {len(args)} fields", file=file)
    if op in ("ACT", "PRE", "DELAY"):
        if not args:
            raise TraceError(f"line {no}: {op} needs a channel", file=file)
        chs = chan(args[0])
        vals = [parse_int(a, "field", no, file) for a in args[1:]]
        if op == "ACT" and len(vals) in (1, 2):
            bank, row = (-1, vals[0]) if len(vals) == 1 else vals
            return [(c, (OP_ACT, bank, row, -1, 1)) for c in chs]
        if op == "PRE" and len(vals) in (0, 1):
            return [(c, (OP_PRE, vals[0] if vals else -1, -1, -1, 1)) for c in chs]
        if op == "DELAY" and len(vals) == 1:
            return [(c, (OP_DELAY, -1, -1, -1, vals[0])) for c in chs]
        form = {"ACT": "CH ROW or CH BANK ROW", "PRE": "CH or CH BANK", "DELAY": "CH CYCLES"}[op]
        raise TraceError(f"line {no}: {op} takes {form}", file=file)
    shape = _SHAPES.get(op)
    if shape is None:
        known = ", ".join(["RD", "WR", *_SHAPES, "ACT", "PRE", "DELAY", "SYNC", "BLOCK", "END"])
        raise TraceError(f"line {no}: unknown request {op!r}; expected one of: {known}", file=file)
    required, optional = shape
    if not args:
        raise TraceError(f"line {no}: {op} needs a channel", file=file)
    if not len(required) <= len(args) - 1 <= len(required) + len(optional):
        form = " ".join(["CH", *(f.upper() for f in required), *(f"[{f.upper()}]" for f, _ in optional)])
        raise TraceError(f"line {no}: {op} takes {form}", file=file)
    chs = chan(args[0])
    v = {"bank": -1, "row": -1, "col": -1, "n": 1}
    for f, _d in optional:
        v[f] = _d
    for f, tok in zip([*required, *(f for f, _ in optional)], args[1:]):
        v[f] = parse_int(tok, {"n": "op size", "col": "column"}.get(f, f), no, file)
    ins = (OP_CODES[op], v["bank"], v["row"], v["col"], v["n"])
    return [(c, ins) for c in chs]


# --- command traces ---------------------------------------------------------------------------------------------
def format_command_trace(trace: Iterable[tuple], *, standard: str = "", clock_mhz: float | None = None) -> str:
    head = ["# archsim DRAM command trace: cycle channel bank command row column ('-' = not applicable)"]
    if standard or clock_mhz:
        head.append(f"# standard {standard}, dram clock {clock_mhz:g} MHz" if clock_mhz else f"# standard {standard}")
    out = head
    dash = (lambda v: "-" if v < 0 else str(v))
    for t, ch, b, cmd, r, col in trace:
        out.append(f"{t} {ch} {dash(b)} {cmd} {dash(r)} {dash(col)}")
    return "\n".join(out) + "\n"


def parse_command_trace(source) -> list[tuple]:
    """Read a command trace into ``(cycle, channel, bank, command, row, col)`` tuples (``-1`` for ``-``)."""
    lines, file = read_lines(source)
    out = []
    for no, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        tok = text.split()
        if len(tok) != 6:
            raise TraceError(f"line {no}: expected 'cycle channel bank command row column', got {len(tok)} fields",
                             file=file)
        vals = []
        for i, what in ((0, "cycle"), (1, "channel"), (2, "bank"), (4, "row"), (5, "column")):
            vals.append(-1 if tok[i] == "-" and i >= 2 else parse_int(tok[i], what, no, file))
        out.append((vals[0], vals[1], vals[2], tok[3], vals[3], vals[4]))
    return out
