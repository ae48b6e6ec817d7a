"""DRAM programs: per-channel lists of PIM instructions and ordinary requests, blocks, address mapping.

An instruction is a plain tuple ``(op, bank, row, col, n)`` (ints; ``-1`` where a field does not apply) made by
the constructors below, so programs are cheap to build and hashable. ``col`` counts column *accesses* (one burst,
``access_bytes`` = device_width x burst_length / 8 bytes, 32 B for x16 BL16), ``0 <= col < columns /
burst_length``; ``n`` is the op size in such accesses. A multi-column op that runs past the end of a row
continues at column 0 of the next row.

==========  =====================================================================================  ==========
op          meaning                                                                                 commands
==========  =====================================================================================  ==========
RD, WR      ordinary request to (bank, row, col); scheduled FR-FCFS within a window (see below)     RD / WR
WR_GB       write ``n`` columns of the channel's global buffer (the broadcast input vector)         WRGB
MAC_ABK     ``n`` all-bank MAC columns of ``row`` starting at ``col``                               MAC16
RD_MAC      read the MAC result registers of every bank (``n`` times)                               RDMAC16
WR_BIAS     write the MAC result registers (bias) of every bank                                     WRMAC16
WR_ABK      write one column to ``row`` of every bank, auto-precharge                               WRA16
RD_AF       read the activation-function results of every bank (``n`` times)                       RDAF16
COPY_BKGB   ``n`` columns of one bank's row into the global buffer; COPY_GBBK the other way         RDCP, WRCP
EWMUL       ``n`` all-bank element-wise multiply columns                                            EWMUL16
AF          activation-function lookup in every bank on ``row``                                     AF16
MAC_SBK     ``n`` single-bank MAC columns; RD_SBK / WR_SBK: in-order single-bank reads / writes     MAC, RD, WR
ACT, PRE    explicit activate / precharge (``bank = -1``: all banks)                                ACT16/ACT, PREA/PRE
SYNC        barrier across all channels: each waits until every channel's issued commands are done
DELAY       wait until this channel's issued commands are done, then ``n`` more cycles (ASIC work)
MEMO        a hint, no timing effect: burst mode memoizes the rest of the barrier segment as one unit       (none)
==========  =====================================================================================  ==========

PIM instructions (everything but RD/WR) issue in program order; the controller adds the ACT/PRE and the mode
changes they need. A run of consecutive RD/WR requests forms a window served first-ready first-come-first-served
with ``request_queue_entries`` queued at a time; PIM instructions and block boundaries end windows.

A :class:`DramBlock` groups instructions of one channel. In burst mode a block is simulated as one event and
its result memoized by (block shape, relative channel state); a shape has rows relative to a base row, so the
same work on other rows of the same banks and columns hits the memo. A :class:`DramRepeat` is ``count``
instances of one block shape on rows ``row_base + i * row_stride`` (the row segments of a matrix-vector
product): one program item, expanded in command mode, run in closed form between refreshes in burst mode.

A ``MEMO`` item (:data:`MEMO`) tells burst mode that the items from it to the next SYNC (the *tail*) are worth
memoizing as one unit: the channel's effect over the tail is keyed by the tail's rows-relative signature and the
channel's relative state, and reused wherever both recur (:meth:`archsim.cyclesim.dram.tailmemo.TailMemo.run`).
It issues nothing and changes no cycle; a mapper puts it where the rest of a program recurs although its start
does not (PIM-GPT's attention scores after the position's K/V append). It may not directly follow an RD/WR
request (it would end the FR-FCFS window there) and is ignored in command mode and inside blocks.
"""

from __future__ import annotations

import operator
import weakref
from typing import Iterable, Sequence

from archsim.base.errors import SimulationError

(OP_RD, OP_WR, OP_WR_GB, OP_MAC_ABK, OP_RD_MAC, OP_WR_BIAS, OP_EWMUL, OP_AF, OP_MAC_SBK, OP_RD_SBK, OP_WR_SBK,
 OP_ACT, OP_PRE, OP_SYNC, OP_DELAY, OP_FENCE, OP_WR_ABK, OP_RD_AF, OP_COPY_BKGB, OP_COPY_GBBK, OP_ARRIVE, OP_MEMO) = range(22)

OP_NAMES = ("RD", "WR", "WR_GB", "MAC_ABK", "RD_MAC", "WR_BIAS", "EWMUL", "AF", "MAC_SBK", "RD_SBK", "WR_SBK",
            "ACT", "PRE", "SYNC", "DELAY", "FENCE", "WR_ABK", "RD_AF", "COPY_BKGB", "COPY_GBBK", "ARRIVE",
            "MEMO")
OP_CODES = {name: i for i, name in enumerate(OP_NAMES)}
ROW_OPS = frozenset((OP_RD, OP_WR, OP_MAC_ABK, OP_EWMUL, OP_AF, OP_MAC_SBK, OP_RD_SBK, OP_WR_SBK, OP_ACT, OP_WR_ABK,
                     OP_COPY_BKGB, OP_COPY_GBBK))
SPAN_OPS = frozenset((OP_MAC_ABK, OP_EWMUL, OP_MAC_SBK, OP_RD_SBK, OP_WR_SBK, OP_COPY_BKGB, OP_COPY_GBBK))  # may continue on the next row
ALL_BANK_OPS = frozenset((OP_WR_GB, OP_MAC_ABK, OP_RD_MAC, OP_WR_BIAS, OP_EWMUL, OP_AF, OP_WR_ABK, OP_RD_AF))

Instr = tuple  # (op, bank, row, col, n)


def rd(bank: int, row: int, col: int) -> Instr:
    return (OP_RD, bank, row, col, 1)


def wr(bank: int, row: int, col: int) -> Instr:
    return (OP_WR, bank, row, col, 1)


def wr_gb(n: int, col: int = 0) -> Instr:
    return (OP_WR_GB, -1, -1, col, n)


def mac_abk(row: int, col: int, n: int) -> Instr:
    return (OP_MAC_ABK, -1, row, col, n)


def rd_mac(n: int = 1) -> Instr:
    return (OP_RD_MAC, -1, -1, -1, n)


def wr_bias(n: int = 1) -> Instr:
    return (OP_WR_BIAS, -1, -1, -1, n)


def ewmul(row: int, col: int, n: int) -> Instr:
    return (OP_EWMUL, -1, row, col, n)


def af(row: int) -> Instr:
    return (OP_AF, -1, row, -1, 1)


def wr_abk(row: int, col: int = 0) -> Instr:
    """Write one column to ``row`` of every bank, with auto-precharge (WRA16)."""
    return (OP_WR_ABK, -1, row, col, 1)


def rd_af(n: int = 1) -> Instr:
    """Read the activation-function results of every bank (RDAF16), ``n`` times."""
    return (OP_RD_AF, -1, -1, -1, n)


def copy_bkgb(bank: int, row: int, col: int, n: int) -> Instr:
    """Copy ``n`` columns of one bank's row into the global buffer (RDCP each)."""
    return (OP_COPY_BKGB, bank, row, col, n)


def copy_gbbk(bank: int, row: int, col: int, n: int) -> Instr:
    """Copy ``n`` global-buffer columns into one bank's row (WRCP each)."""
    return (OP_COPY_GBBK, bank, row, col, n)


def mac_sbk(bank: int, row: int, col: int, n: int) -> Instr:
    return (OP_MAC_SBK, bank, row, col, n)


def rd_sbk(bank: int, row: int, col: int, n: int = 1) -> Instr:
    return (OP_RD_SBK, bank, row, col, n)


def wr_sbk(bank: int, row: int, col: int, n: int = 1) -> Instr:
    return (OP_WR_SBK, bank, row, col, n)


def act(row: int, bank: int = -1) -> Instr:
    return (OP_ACT, bank, row, -1, 1)


def pre(bank: int = -1) -> Instr:
    return (OP_PRE, bank, -1, -1, 1)


def delay(cycles: int) -> Instr:
    return (OP_DELAY, -1, -1, -1, cycles)


def arrive(k: int) -> Instr:
    """The next instruction or request reaches the controller ``k`` cycles after the channel's host base: the
    start of the run, or one cycle after the last SYNC released (the AiM host's decode time of a trace line)."""
    return (OP_ARRIVE, -1, -1, -1, k)


SYNC: Instr = (OP_SYNC, -1, -1, -1, 0)
MEMO: Instr = (OP_MEMO, -1, -1, -1, 0)   # memoize the rest of this barrier segment (burst mode; see the module doc)


class BlockShape:
    """The instructions of a block with rows relative to the block's base row; shared by all blocks of that
    shape (interned), so a memo key hashes it by identity."""

    __slots__ = ("instrs", "_rows", "_timing", "__weakref__")

    def __init__(self, instrs: tuple):
        self.instrs = instrs
        self._rows: dict[int, tuple[frozenset, int]] = {}
        self._timing: dict[int, BlockShape] = {}

    def timing(self, row_accesses: int) -> "BlockShape":
        """This shape with every column that cannot change the timing erased (-1): a WR_GB's, and that of a
        PIM column op that stays in its row (only where a multi-column op crosses into the next row does its
        column decide the commands). Blocks equal up to such columns take the same time, issue the same
        commands per bank and leave the same state; only their command traces differ, so burst mode keys its
        memo on this when it records no trace. (A key only: its rows are those of this shape.)"""
        got = self._timing.get(row_accesses)
        if got is None:
            erased = tuple(timing_instr(ins, row_accesses) for ins in self.instrs)
            got = self._timing[row_accesses] = self if erased == self.instrs else _shape_of(erased)
        return got

    def rows(self, row_accesses: int) -> tuple[frozenset, int]:
        """(relative rows the block touches, including rows a spanning op continues into; the largest)."""
        got = self._rows.get(row_accesses)
        if got is None:
            rows = set()
            for op, _bank, row, col, n in self.instrs:
                if op in ROW_OPS:
                    last = row + ((col + n - 1) // row_accesses if op in SPAN_OPS else 0)
                    rows.update(range(row, last + 1))
            got = self._rows[row_accesses] = (frozenset(rows), max(rows, default=-1))
        return got


def timing_instr(ins: Instr, row_accesses: int) -> Instr:
    """``ins`` with its column erased (-1) where it cannot change the timing (see :meth:`BlockShape.timing`)."""
    op, b, r, c, n = ins
    return (op, b, r, -1, n) if op == OP_WR_GB or (op in SPAN_OPS and c + n <= row_accesses) else ins


_SHAPES: "weakref.WeakValueDictionary[tuple, BlockShape]" = weakref.WeakValueDictionary()


def _shape_of(instrs: tuple) -> BlockShape:
    shape = _SHAPES.get(instrs)
    if shape is None:
        shape = _SHAPES[instrs] = BlockShape(instrs)
    return shape


class DramBlock:
    """A group of one channel's instructions: the unit of burst-mode memoization (no SYNC, no nested blocks).

    ``DramBlock(instrs)`` takes instructions with absolute rows; the block is stored as a shape (rows relative to
    the lowest row it names) plus that base row, so the same shape on other rows shares memo entries. To place a
    shape many times without rescanning it, build it once and use :meth:`at`::

        tile = DramBlock([mac_abk(0, 0, 64), rd_mac()])      # rows relative to 0
        prog.block(ch, tile.at(row_base=120))                # O(1): rows 120.. of the same shape
    """

    __slots__ = ("shape", "row_base")

    def __init__(self, instrs: Iterable[Instr], row_base: int | None = None):
        instrs = tuple(instrs)
        for ins in instrs:
            if type(ins) is not tuple or len(ins) != 5:
                raise SimulationError(f"a DramBlock holds instruction tuples (blocks do not nest), got {ins!r}")
            if ins[0] == OP_SYNC:
                raise SimulationError("a DramBlock cannot contain SYNC (a block is one channel's work)")
            if ins[0] == OP_MEMO:
                raise SimulationError("a DramBlock cannot contain MEMO (a block is memoized as a whole already)")
        if row_base is None:  # absolute rows: rebase to the lowest row named
            row_base = min((i[2] for i in instrs if i[0] in ROW_OPS), default=0)
            if row_base:
                instrs = tuple((i[0], i[1], i[2] - row_base, i[3], i[4]) if i[0] in ROW_OPS else i
                               for i in instrs)
        self.shape = _shape_of(instrs)
        self.row_base = row_base

    def at(self, row_base: int) -> "DramBlock":
        """The same shape placed at ``row_base``."""
        blk = DramBlock.__new__(DramBlock)
        blk.shape, blk.row_base = self.shape, row_base
        return blk

    @property
    def instrs(self) -> tuple:
        """The instructions with absolute rows."""
        base = self.row_base
        if not base:
            return self.shape.instrs
        return tuple((i[0], i[1], i[2] + base, i[3], i[4]) if i[0] in ROW_OPS else i for i in self.shape.instrs)

    def __len__(self) -> int:
        return len(self.shape.instrs)

    def __eq__(self, other) -> bool:
        return type(other) is DramBlock and other.shape is self.shape and other.row_base == self.row_base

    def __hash__(self) -> int:
        return hash((id(self.shape), self.row_base))

    def __repr__(self) -> str:
        return f"DramBlock({len(self)} instructions at row {self.row_base})"


class DramRepeat:
    """``count`` instances of one tile on successive rows: instance ``i`` is ``tile.at(row_base + i *
    row_stride)``. One program item, so a VMM of thousands of row segments costs one list entry.

    Command mode expands it (every instance is an ordinary :class:`DramBlock`). Burst mode runs the instances
    from the block memo and, once an instance leaves the channel in the same relative state it started from
    (every further instance then takes the same time and adds the same counters), skips in closed form over
    all instances that end before the next refresh is due; see :mod:`archsim.cyclesim.dram.engine`. ``tile`` is a
    :class:`DramBlock` (its own base row is ignored) or instructions with rows relative to ``row_base``.
    """

    __slots__ = ("shape", "count", "row_base", "row_stride")

    def __init__(self, tile, count: int, row_base: int, row_stride: int = 1):
        if not isinstance(tile, DramBlock):
            tile = DramBlock(tile, row_base=0)
        try:
            if any(isinstance(v, bool) for v in (count, row_base, row_stride)):
                raise TypeError
            count, row_base, row_stride = (operator.index(v) for v in (count, row_base, row_stride))
        except TypeError:
            raise SimulationError(f"DramRepeat count, row_base and row_stride must be integers, got "
                                  f"{count!r}, {row_base!r}, {row_stride!r}") from None
        if count < 0:
            raise SimulationError(f"DramRepeat count must not be negative, got {count}")
        self.shape = tile.shape
        self.count = count
        self.row_base = row_base
        self.row_stride = row_stride

    @property
    def tile(self) -> DramBlock:
        """The tile placed at ``row_base`` (instance 0)."""
        return self.instance(0)

    def instance(self, i: int) -> DramBlock:
        """Instance ``i`` as a block."""
        blk = DramBlock.__new__(DramBlock)
        blk.shape, blk.row_base = self.shape, self.row_base + i * self.row_stride
        return blk

    def blocks(self) -> "_RepeatBlocks":
        """The instances as a lazy sequence of blocks (what command mode runs)."""
        return _RepeatBlocks(self)

    def row_span(self, row_accesses: int) -> tuple[int, int]:
        """(lowest, highest) absolute row any instance touches (count >= 1)."""
        top = self.shape.rows(row_accesses)[1]
        first, last = self.row_base, self.row_base + (self.count - 1) * self.row_stride
        return min(first, last), max(first, last) + max(top, 0)

    def __len__(self) -> int:
        return self.count * len(self.shape.instrs)

    def __eq__(self, other) -> bool:
        return (type(other) is DramRepeat and other.shape is self.shape and other.count == self.count
                and other.row_base == self.row_base and other.row_stride == self.row_stride)

    def __hash__(self) -> int:
        return hash((id(self.shape), self.count, self.row_base, self.row_stride))

    def __repr__(self) -> str:
        return (f"DramRepeat({len(self.shape.instrs)} instructions x {self.count}, rows from {self.row_base} "
                f"step {self.row_stride})")


class _RepeatBlocks:
    """A repeat's instances as an indexable sequence (a controller frame), built on access."""

    __slots__ = ("rep",)

    def __init__(self, rep: DramRepeat):
        self.rep = rep

    def __len__(self) -> int:
        return self.rep.count

    def __getitem__(self, i: int) -> DramBlock:
        if not 0 <= i < self.rep.count:
            raise IndexError(i)
        return self.rep.instance(i)


class DramProgram:
    """Per-channel instruction lists. ``sync()`` appends a SYNC to every channel."""

    def __init__(self, channels: int):
        if channels < 1:
            raise SimulationError(f"a DRAM program needs at least one channel, got {channels}")
        self.channels: list[list] = [[] for _ in range(channels)]

    def add(self, ch: int, *items) -> None:
        self._ch(ch).extend(items)

    def extend(self, ch: int, items: Iterable) -> None:
        self._ch(ch).extend(items)

    def block(self, ch: int, instrs: Iterable[Instr]) -> DramBlock:
        blk = instrs if isinstance(instrs, DramBlock) else DramBlock(instrs)
        self._ch(ch).append(blk)
        return blk

    def repeat(self, ch: int, tile, count: int, row_base: int, row_stride: int = 1) -> DramRepeat:
        """Append ``DramRepeat(tile, count, row_base, row_stride)`` to channel ``ch``."""
        rep = DramRepeat(tile, count, row_base, row_stride)
        self._ch(ch).append(rep)
        return rep

    def sync(self) -> None:
        for lst in self.channels:
            lst.append(SYNC)

    def _ch(self, ch: int) -> list:
        if not 0 <= ch < len(self.channels):
            raise SimulationError(f"channel {ch} out of range 0..{len(self.channels) - 1}")
        return self.channels[ch]

    def __len__(self) -> int:
        return sum(len(c) for c in self.channels)


def as_channel_lists(program, channels: int) -> list[list]:
    """Accept a :class:`DramProgram` or a sequence of per-channel lists. Channels the program does not mention
    are idle; they join its SYNCs."""
    lists = program.channels if isinstance(program, DramProgram) else list(program)
    if len(lists) > channels:
        raise SimulationError(f"the program uses {len(lists)} channels but the DRAM has {channels}")
    if len(lists) == channels:
        return [list(x) for x in lists]
    syncs = max([sum(1 for i in x if type(i) is tuple and i[0] == OP_SYNC) for x in lists], default=0)
    return [list(x) for x in lists] + [[SYNC] * syncs for _ in range(channels - len(lists))]


class AddressMapping:
    """Split a byte address into (channel, bank, row, col) by a named mapping, most significant field first.

    ``RoBaBgCoCh``: consecutive 32 B accesses go to consecutive channels, then along a row, then to the next
    bank group, bank, row. Fields are mixed-radix (channel counts need not be powers of two).
    """

    FIELDS = {"Ro": "rows", "Ba": "banks_per_group", "Bg": "bank_groups", "Co": "row_accesses", "Ch": "channels"}

    def __init__(self, cfg, name: str | None = None):
        self.name = name or cfg.address_mapping
        parts = [self.name[i:i + 2] for i in range(0, len(self.name), 2)]
        if sorted(parts) != sorted(self.FIELDS) or len(self.name) != 10:
            raise SimulationError(f"address mapping {self.name!r} must order the fields Ro Ba Bg Co Ch")
        self.order = list(reversed(parts))  # least significant first
        self.radix = {"Ro": cfg.rows, "Ba": cfg.banks_per_group, "Bg": cfg.bank_groups,
                      "Co": cfg.row_accesses, "Ch": cfg.channels}
        self.access_bytes = cfg.access_bytes
        self.bpg = cfg.banks_per_group
        self.capacity = cfg.access_bytes
        for f in parts:
            self.capacity *= self.radix[f]

    def decode(self, addr: int) -> tuple[int, int, int, int]:
        if not 0 <= addr < self.capacity:
            raise SimulationError(f"address {addr:#x} outside the DRAM (capacity {self.capacity:#x} bytes)")
        a = addr // self.access_bytes
        v = {}
        for f in self.order:
            a, v[f] = divmod(a, self.radix[f])
        return v["Ch"], v["Bg"] * self.bpg + v["Ba"], v["Ro"], v["Co"]

    def encode(self, ch: int, bank: int, row: int, col: int) -> int:
        v = {"Ch": ch, "Bg": bank // self.bpg, "Ba": bank % self.bpg, "Ro": row, "Co": col}
        a = 0
        for f in reversed(self.order):
            a = a * self.radix[f] + v[f]
        return a * self.access_bytes


def validate_instr(ins: Sequence[int], cfg, where: str = "") -> None:
    """Range checks for one instruction against the organization (raises SimulationError)."""
    op, bank, row, col, n = ins
    pre = f"{where}: " if where else ""
    if not 0 <= op < len(OP_NAMES) or op == OP_FENCE:
        raise SimulationError(f"{pre}unknown op code {op}")
    name = OP_NAMES[op]
    if bank != -1 and not 0 <= bank < cfg.banks:
        raise SimulationError(f"{pre}{name}: bank {bank} out of range 0..{cfg.banks - 1}")
    if op in (OP_RD, OP_WR, OP_MAC_SBK, OP_RD_SBK, OP_WR_SBK, OP_COPY_BKGB, OP_COPY_GBBK) and bank < 0:
        raise SimulationError(f"{pre}{name} needs a bank")
    if op in ROW_OPS:
        last = row + ((col + n - 1) // cfg.row_accesses if op in SPAN_OPS else 0)
        if not 0 <= row or last >= cfg.rows:
            raise SimulationError(f"{pre}{name}: row {row} (through {last}) out of range 0..{cfg.rows - 1}")
    if op in (OP_RD, OP_WR, OP_MAC_ABK, OP_EWMUL, OP_MAC_SBK, OP_RD_SBK, OP_WR_SBK, OP_WR_GB, OP_WR_ABK,
              OP_COPY_BKGB, OP_COPY_GBBK):
        if not 0 <= col < cfg.row_accesses:
            raise SimulationError(f"{pre}{name}: column {col} out of range 0..{cfg.row_accesses - 1} "
                                  f"(columns count {cfg.access_bytes}-byte accesses)")
    if op == OP_MEMO and (bank, row, col, n) != (-1, -1, -1, 0):
        raise SimulationError(f"{pre}MEMO takes no operands (use program.MEMO), got {tuple(ins)}")
    if op in (OP_DELAY, OP_ARRIVE) and n < 0 or op not in (OP_DELAY, OP_SYNC, OP_ARRIVE, OP_MEMO) and n < 1:
        raise SimulationError(f"{pre}{name}: size {n} must be positive")
