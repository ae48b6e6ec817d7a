"""The public AiM simulator's trace format, read into the same per-channel programs as our own request traces.

Lines (``#`` starts a comment; numbers decimal or ``0x``)::

    AiM <OP> <fields...>          an AiM ISR instruction; the fields each op takes, in order, are below
    R MEM <ch> <bank> <row>       an ordinary read (W MEM: write) of column 0 of that row
    R GPR <id> | W GPR <id>       host <-> general-purpose register transfer (no DRAM command)
    W CFR <id> <data>             configuration register write (no DRAM command; see below)
    AiM EOC                       end of the trace (required, last)

``channel_mask`` is 32 bits, MSB-first: bit ``31 - c`` selects channel ``c``. An opsize-``n`` line becomes, on
each selected channel, an op over columns ``0 .. n-1`` (request ``i`` uses column ``i``).

=========  ==================================  ==========================================================
op         fields                              becomes (per selected channel)
=========  ==================================  ==========================================================
WR_GB      opsize gpr0 channel_mask            WR_GB over opsize columns (WRGB each)
WR_BIAS    gpr0 channel_mask                   WR_BIAS (WRMAC16)
MAC_ABK    opsize channel_mask row             MAC_ABK row, columns 0..opsize-1 (MAC16 each)
RD_MAC     gpr0 channel_mask                   RD_MAC (RDMAC16), then a barrier: blocking
MAC_SBK    opsize channel_mask bank row        MAC_SBK (MAC each)
WR_SBK     gpr0 channel_mask bank row          WR_SBK of column 0 (WR)
RD_SBK     gpr0 channel_mask bank row          RD_SBK of column 0 (RD)
EWMUL      opsize channel_mask row             EWMUL over opsize columns (EWMUL16 each)
WR_ABK     gpr0 channel_mask row               WR_ABK: column 0 of row in every bank, auto-precharge (WRA16)
RD_AF      gpr0 channel_mask                   RD_AF (RDAF16), then a barrier: blocking
COPY_BKGB  opsize channel_mask bank row        opsize columns of the bank's row into the GB (RDCP each)
COPY_GBBK  opsize channel_mask bank row        opsize GB columns into the bank's row (WRCP each)
SYNC       -                                   barrier: the host waits until every channel has completed
EOC        -                                   barrier, end of the trace
=========  ==================================  ==========================================================

Not yet modelled (a TraceError says so): AF (AF16 on the MAC results; our AF16 names a row), EWADD, WR_AFLUT;
and the effect of CFR modes (written CFRs are accepted and ignored; a CFR that changes timing would need a
model).

Semantics and where they differ from the AiM simulator: AiM instructions issue in order per channel and the
blocking ones (RD_MAC, RD_AF, SYNC, EOC) are a barrier across all channels, as there. Not modelled: the host decoding at
most one line per cycle and the bounded per-channel AiM queue (every line is available at once here, so a trace
whose DRAM work is shorter than one cycle per line runs faster here); MEM requests are ordered with the AiM
instructions of their channel (an FR-FCFS window ends at a PIM instruction) rather than held off the controller.
The AiM simulator's run length is the tick at which the EOC callback returns: :func:`aim_cycles` gives
``end_cycle + 1`` (EOC's 1-cycle latency after every channel has completed).
"""

from __future__ import annotations

import re

from archsim.base.errors import SimulationError, TraceError
from archsim.cyclesim.dram.program import (SYNC, copy_bkgb, copy_gbbk, ewmul, mac_abk, mac_sbk, rd, rd_af, rd_mac, rd_sbk, validate_instr,
                                           wr, wr_abk, wr_bias, wr_gb, wr_sbk)
from archsim.cyclesim.dram.tracefile import read_lines

_FIELDS = {
    "WR_GB": ("opsize", "gpr0", "mask"), "WR_BIAS": ("gpr0", "mask"), "MAC_ABK": ("opsize", "mask", "row"),
    "RD_MAC": ("gpr0", "mask"), "MAC_SBK": ("opsize", "mask", "bank", "row"),
    "WR_SBK": ("gpr0", "mask", "bank", "row"), "RD_SBK": ("gpr0", "mask", "bank", "row"),
    "EWMUL": ("opsize", "mask", "row"), "WR_ABK": ("gpr0", "mask", "row"), "RD_AF": ("gpr0", "mask"),
    "COPY_BKGB": ("opsize", "mask", "bank", "row"), "COPY_GBBK": ("opsize", "mask", "bank", "row"),
    "SYNC": (), "EOC": (),
}
_UNMODELLED = ("AF", "EWADD", "WR_AFLUT")
_BLOCKING = frozenset(("RD_MAC", "RD_AF", "SYNC", "EOC"))
_AIM_LINE = re.compile(r"^\s*(AiM\s+\S+|[RW]\s+(MEM|GPR)\b|W\s+CFR\b)", re.IGNORECASE)
MASK_BITS = 32


def is_aim_trace(lines) -> bool:
    """Whether the first line that is not blank or a comment is in the AiM simulator's format."""
    for raw in lines:
        text = raw.split("#", 1)[0].strip()
        if text:
            return bool(_AIM_LINE.match(text))
    return False


def aim_cycles(result) -> int:
    """The AiM simulator's run length for a replayed AiM trace: ticks until the EOC callback returns."""
    return result.end_cycle + 1


def _num(tok: str, what: str, no: int, file) -> int:
    try:
        v = int(tok, 0)
    except ValueError:
        raise TraceError(f"line {no}: expected an integer {what}, got {tok!r}", file=file) from None
    if v < 0:
        raise TraceError(f"line {no}: {what} must not be negative, got {v}", file=file)
    return v


def parse_aim(source, system) -> list[list]:
    """Per-channel instruction lists for ``system`` (a :class:`DramSystem`) from an AiM-format trace."""
    lines, file = read_lines(source)
    cfg = system.cfg
    chans: list[list] = [[] for _ in range(cfg.channels)]
    ended = 0
    for no, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        if ended:
            raise TraceError(f"line {no}: nothing may follow AiM EOC (line {ended})", file=file)
        tok = text.split()
        head = tok[0].upper()
        if head in ("R", "W") and len(tok) >= 2 and tok[1].upper() in ("MEM", "GPR", "CFR"):
            kind = tok[1].upper()
            want = {"MEM": 3, "GPR": 1, "CFR": 2}[kind]
            if kind == "CFR" and head == "R":
                raise TraceError(f"line {no}: CFRs are written only (W CFR <id> <data>)", file=file)
            if len(tok) - 2 != want:
                form = {"MEM": "<ch> <bank> <row>", "GPR": "<id>", "CFR": "<id> <data>"}[kind]
                raise TraceError(f"line {no}: {head} {kind} takes {form}", file=file)
            vals = [_num(t, f, no, file) for t, f in zip(tok[2:], ("channel", "bank", "row"))]
            if kind == "MEM":
                ch, bank, row = vals
                if ch >= cfg.channels:
                    raise TraceError(f"line {no}: channel {ch} out of range 0..{cfg.channels - 1}", file=file)
                ins = (rd if head == "R" else wr)(bank, row, 0)
                _check(ins, cfg, no, file)
                chans[ch].append(ins)
            continue  # GPR and CFR: host side, no DRAM command
        if head != "AIM" or len(tok) < 2:
            raise TraceError(f"line {no}: expected 'AiM <OP> ...', 'R|W MEM', 'R|W GPR' or 'W CFR', got "
                             f"{text!r}", file=file)
        op = tok[1].upper()
        if op in _UNMODELLED:
            raise TraceError(f"line {no}: AiM {op} has no timing model yet", file=file)
        fields = _FIELDS.get(op)
        if fields is None:
            raise TraceError(f"line {no}: unknown AiM op {op!r}; expected one of: "
                             f"{', '.join([*_FIELDS, *_UNMODELLED])}", file=file)
        if len(tok) - 2 != len(fields):
            raise TraceError(f"line {no}: AiM {op} takes {' '.join(fields) or 'no fields'}", file=file)
        v = {f: _num(t, f, no, file) for f, t in zip(fields, tok[2:])}
        if op in ("SYNC", "EOC"):
            for lst in chans:
                lst.append(SYNC)
            ended = no if op == "EOC" else 0
            continue
        mask = v["mask"]
        if mask >= 1 << MASK_BITS:
            raise TraceError(f"line {no}: channel mask {mask:#x} is wider than {MASK_BITS} bits", file=file)
        selected = [c for c in range(MASK_BITS) if mask >> (MASK_BITS - 1 - c) & 1]
        if any(c >= cfg.channels for c in selected):
            raise TraceError(f"line {no}: channel mask {mask:#010x} selects channel {max(selected)} but the DRAM "
                             f"has {cfg.channels} (bit 31-c selects channel c)", file=file)
        n, row, bank = v.get("opsize", 1), v.get("row", -1), v.get("bank", -1)
        ins = {"WR_GB": lambda: wr_gb(n), "WR_BIAS": lambda: wr_bias(), "MAC_ABK": lambda: mac_abk(row, 0, n),
               "RD_MAC": lambda: rd_mac(), "MAC_SBK": lambda: mac_sbk(bank, row, 0, n),
               "WR_SBK": lambda: wr_sbk(bank, row, 0), "RD_SBK": lambda: rd_sbk(bank, row, 0),
               "EWMUL": lambda: ewmul(row, 0, n), "WR_ABK": lambda: wr_abk(row), "RD_AF": lambda: rd_af(),
               "COPY_BKGB": lambda: copy_bkgb(bank, row, 0, n), "COPY_GBBK": lambda: copy_gbbk(bank, row, 0, n)}[op]()
        _check(ins, cfg, no, file)
        for c in selected:
            chans[c].append(ins)
        if op in _BLOCKING:
            for lst in chans:
                lst.append(SYNC)
    if not ended:
        raise TraceError("the trace does not end with AiM EOC", file=file)
    return chans


def _check(ins, cfg, no, file) -> None:
    try:
        validate_instr(ins, cfg)
    except SimulationError as exc:
        raise TraceError(f"line {no}: {exc.detail}", file=file) from None


FORMATS = ("auto", "archsim", "aim")


def parse_any(source, system, fmt: str = "auto") -> tuple[list[list], str]:
    """(per-channel lists, format read): ``fmt`` ``archsim`` (our request trace), ``aim`` (the AiM simulator's),
    or ``auto`` (AiM if the first non-comment line is an AiM line)."""
    from archsim.cyclesim.dram.tracefile import parse_requests

    if fmt not in FORMATS:
        raise TraceError(f"unknown trace format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    lines, file = read_lines(source)
    if fmt == "auto":
        fmt = "aim" if is_aim_trace(lines) else "archsim"
    src = lines if file is None else file
    return (parse_aim(src, system) if fmt == "aim" else parse_requests(src, system)), fmt
