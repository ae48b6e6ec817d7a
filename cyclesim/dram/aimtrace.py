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
AF         channel_mask                        AF16 on the LUT row of the CFR AFM mode (:func:`af_lut_row`)
EWADD      opsize gpr0 gpr1                    nothing (GPR + GPR: the AiM simulator sends no request)
SYNC       -                                   barrier: the host waits until every channel has completed
EOC        -                                   barrier, end of the trace
=========  ==================================  ==========================================================

WR_AFLUT is a TraceError (the public AiM simulator rejects it: "not supported by now"). CFRs (the AiM
simulator's three): 2 AFM selects the AF LUT row, so it changes AF timing (a new mode is a row conflict);
0 BROADCAST (MAC vector from the GB or the next bank) and 1 EWMUL_BG (EWMUL over one or all bank groups) are
accepted and change nothing here: our MAC16 / EWMUL16 timing is the default mode's (GB, all bank groups); the
AiM simulator passes them along with the request without a timing of their own that we have modelled. An unknown
CFR id is a TraceError, as there.

Semantics, as in the AiM simulator: the host decodes at most one line per cycle (every line, GPR, CFR and EWADD
lines included, takes its cycle) and sends each line's requests to their channels in that cycle (``arrive``
before each instruction / request; FR-FCFS never schedules a MEM request, its ACT or PRE included, before it
arrived). A blocking line (RD_MAC, RD_AF, SYNC, EOC) is a barrier across all channels: the host decodes the next
line one cycle after every channel has completed. On a channel, a MEM request waits until the AiM work before it
completed and an AiM instruction until the MEM work before it completed (``delay(0)`` at each switch). Each
channel's queue holds ``aim_queue_entries`` requests (default 32, the public AiM simulator's): a line whose
requests do not fit stalls the host (for every channel) until they do, see :mod:`.aimhost` (``replay`` and
``archsim dram replay`` use it; :func:`parse_aim` alone gives the stall-free program).

Cycle accounting: ``result.cycles`` runs to the later of the last command's completion and the host's decode
of the EOC line. The AiM simulator's run length is the tick at which the EOC callback returns:
:func:`aim_cycles` gives ``end_cycle + 1`` (EOC's 1-cycle latency after that).
"""

from __future__ import annotations

import re

from archsim.base.errors import SimulationError, TraceError
from archsim.cyclesim.dram.program import (SYNC, af, arrive, copy_bkgb, delay, copy_gbbk, ewmul, mac_abk, mac_sbk, rd, rd_af, rd_mac, rd_sbk, validate_instr,
                                           wr, wr_abk, wr_bias, wr_gb, wr_sbk)
from archsim.cyclesim.dram.tracefile import parse_int as _num  # one integer-field parser for both formats
from archsim.cyclesim.dram.tracefile import read_lines

_FIELDS = {
    "WR_GB": ("opsize", "gpr0", "mask"), "WR_BIAS": ("gpr0", "mask"), "MAC_ABK": ("opsize", "mask", "row"),
    "RD_MAC": ("gpr0", "mask"), "MAC_SBK": ("opsize", "mask", "bank", "row"),
    "WR_SBK": ("gpr0", "mask", "bank", "row"), "RD_SBK": ("gpr0", "mask", "bank", "row"),
    "EWMUL": ("opsize", "mask", "row"), "WR_ABK": ("gpr0", "mask", "row"), "RD_AF": ("gpr0", "mask"),
    "COPY_BKGB": ("opsize", "mask", "bank", "row"), "COPY_GBBK": ("opsize", "mask", "bank", "row"),
    "AF": ("mask",), "EWADD": ("opsize", "gpr0", "gpr1"), "SYNC": (), "EOC": (),
}
_UNSUPPORTED = ("WR_AFLUT",)
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



AF_LUT_MODES = 8   # CFR AFM selects one of 8 activation functions (the AiM simulator's AFM range 0-7)
_CFR_NAMES = {0: "BROADCAST", 1: "EWMUL_BG", 2: "AFM"}   # the AiM simulator's CFR addresses


def af_lut_row(cfg, afm: int) -> int:
    """The row AF reads for activation-function mode ``afm``: the AiM simulator addresses the LUT as row
    2^29 + AFM, outside the data rows; here (assumed: a reserved LUT row per mode at the top of each bank) row
    ``rows - AF_LUT_MODES + afm``."""
    return cfg.rows - AF_LUT_MODES + afm


def parse_aim(source, system, offsets=None, host=None) -> list[list]:
    """Per-channel instruction lists for ``system`` (a :class:`DramSystem`) from an AiM-format trace.

    The host decodes one line per cycle: every instruction or request of the ``k``-th line since the start (or
    since the last blocking line) is preceded by ``arrive(k)`` (it reaches its controller ``k`` cycles after the
    run's start, or after one cycle past the barrier's release). A channel switching between MEM requests and
    AiM instructions gets ``delay(0)`` (the new kind waits until the other's work completed).

    ``offsets`` (one per decoded line) replaces each line's ``k`` (the host model of :mod:`.aimhost` sets them
    for queue-full stalls); ``host``, a list, receives per decoded line ``(segment, {channel: (requests, "mem" | "aim")})``."""
    lines, file = read_lines(source)
    cfg = system.cfg
    chans: list[list] = [[] for _ in range(cfg.channels)]
    kind = [None] * cfg.channels     # per channel: "mem" / "aim", what it last received
    cfr = {0: 0, 1: 1, 2: 0}         # the AiM simulator's CFR reset values
    ended = 0
    k = -1                           # the line's decode cycle after the host base
    li = -1                          # decoded lines so far
    seg = 0                          # barriers so far
    reqs: dict = {}

    def at():
        return offsets[li] if offsets is not None else k

    def put(c, ins, what, n=1):
        if kind[c] is not None and kind[c] != what:
            chans[c].append(delay(0))
        kind[c] = what
        chans[c].append(arrive(at()))
        chans[c].append(ins)
        reqs[c] = (reqs[c][0] + n if c in reqs else n, what)

    def barrier():
        nonlocal k, seg
        for lst in chans:
            lst.append(arrive(at()))
            lst.append(SYNC)
        k = -1
        seg += 1

    for no, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        if ended:
            raise TraceError(f"line {no}: nothing may follow AiM EOC (line {ended})", file=file)
        k += 1
        li += 1
        reqs = {}
        if host is not None:
            host.append((seg, reqs))
        tok = text.split()
        head = tok[0].upper()
        if head in ("R", "W") and len(tok) >= 2 and tok[1].upper() in ("MEM", "GPR", "CFR"):
            what = tok[1].upper()
            want = {"MEM": 3, "GPR": 1, "CFR": 2}[what]
            if what == "CFR" and head == "R":
                raise TraceError(f"line {no}: CFRs are written only (W CFR <id> <data>)", file=file)
            if len(tok) - 2 != want:
                form = {"MEM": "<ch> <bank> <row>", "GPR": "<id>", "CFR": "<id> <data>"}[what]
                raise TraceError(f"line {no}: {head} {what} takes {form}", file=file)
            vals = [_num(t, f, no, file) for t, f in zip(tok[2:], ("channel", "bank", "row"))]
            if what == "MEM":
                ch, bank, row = vals
                if ch >= cfg.channels:
                    raise TraceError(f"line {no}: channel {ch} out of range 0..{cfg.channels - 1}", file=file)
                ins = (rd if head == "R" else wr)(bank, row, 0)
                _check(ins, cfg, no, file)
                put(ch, ins, "mem")
            elif what == "CFR":
                cid, data = vals
                if cid not in _CFR_NAMES:
                    raise TraceError(f"line {no}: unknown CFR {cid}; the AiM simulator has "
                                     f"{', '.join(f'{i} ({n})' for i, n in _CFR_NAMES.items())}", file=file)
                if cid == 2 and data >= AF_LUT_MODES:
                    raise TraceError(f"line {no}: AFM {data} out of range 0..{AF_LUT_MODES - 1}", file=file)
                cfr[cid] = data
            continue  # GPR (and CFR): host side, no DRAM command; the line takes its decode cycle
        if head != "AIM" or len(tok) < 2:
            raise TraceError(f"line {no}: expected 'AiM <OP> ...', 'R|W MEM', 'R|W GPR' or 'W CFR', got "
                             f"{text!r}", file=file)
        op = tok[1].upper()
        if op in _UNSUPPORTED:
            raise TraceError(f"line {no}: AiM {op} is not supported (the public AiM simulator rejects it too: "
                             f"'not supported by now')", file=file)
        fields = _FIELDS.get(op)
        if fields is None:
            raise TraceError(f"line {no}: unknown AiM op {op!r}; expected one of: "
                             f"{', '.join([*_FIELDS, *_UNSUPPORTED])}", file=file)
        if len(tok) - 2 != len(fields):
            raise TraceError(f"line {no}: AiM {op} takes {' '.join(fields) or 'no fields'}", file=file)
        v = {f: _num(t, f, no, file) for f, t in zip(fields, tok[2:])}
        if op in ("SYNC", "EOC"):
            barrier()
            ended = no if op == "EOC" else 0
            continue
        if op == "EWADD":   # GPR + GPR: the AiM simulator decodes it and sends nothing to the DRAM
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
               "AF": lambda: af(af_lut_row(cfg, cfr[2])),
               "COPY_BKGB": lambda: copy_bkgb(bank, row, 0, n), "COPY_GBBK": lambda: copy_gbbk(bank, row, 0, n)}[op]()
        _check(ins, cfg, no, file)
        for c in selected:
            put(c, ins, "aim", n if "opsize" in fields else 1)
        if op in _BLOCKING:
            barrier()
    if not ended:
        raise TraceError("the trace does not end with AiM EOC", file=file)
    return chans


def _check(ins, cfg, no, file) -> None:
    try:
        validate_instr(ins, cfg)
    except SimulationError as exc:
        raise TraceError(f"line {no}: {exc.detail}", file=file) from None


FORMATS = ("auto", "archsim", "aim")


def parse_any(source, system, fmt: str = "auto", progress=None) -> tuple[list[list], str]:
    """(per-channel lists, format read): ``fmt`` ``archsim`` (our request trace), ``aim`` (the AiM simulator's),
    or ``auto`` (AiM if the first non-comment line is an AiM line). ``progress(done, total)`` is called while
    an archsim-format trace is read."""
    from archsim.cyclesim.dram.tracefile import parse_requests

    if fmt not in FORMATS:
        raise TraceError(f"unknown trace format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    lines, file = read_lines(source)
    if fmt == "auto":
        fmt = "aim" if is_aim_trace(lines) else "archsim"
    src = lines if file is None else file
    return (parse_aim(src, system) if fmt == "aim" else parse_requests(src, system, progress=progress)), fmt
