"""Functional execution of DRAM programs: a data model of the PIM memory that runs the same instruction objects
the timing model runs (one program, two interpreters), for small configurations.

State, per channel ``c`` and bank ``b``:

* bank rows of ``row_elems`` bf16 values (kept as float32 arrays holding bf16-representable values; rows are
  allocated on first touch and read as zero before any write);
* the channel's global buffer (GB) of ``gb_elems`` values;
* one MAC accumulator per bank (fp32, or rounded to bf16 after every column with ``accum="bf16"``).

Data moves between the host (the ASIC) and the memory through two queues per channel: ``writes`` feeds the ops
that carry data in (WR_GB, WR_BIAS, WR_SBK, WR) in program order, ``reads`` collects what comes out (RD_MAC,
RD_SBK, RD) in program order. A column access holds ``access_elems`` values; column ``col`` of row ``row``
holds elements ``col * access_elems ..`` of that row, and an op over ``n`` columns that runs past the end of a
row continues at column 0 of the next row (as the timing model has it).

==========  =====================================================================================
op          data semantics
==========  =====================================================================================
WR_GB       GB columns ``col .. col + n - 1`` <- the next write item (``n * access_elems`` values)
MAC_ABK     for i in 0..n-1, in every bank: acc += tree16(row column ``col + i`` x GB column ``i``): the
            op's i-th column meets GB column i [assumed: AiM's MAC request i uses column i of both the row
            and the GB; our ops may start mid-row, so the GB index is op-relative]; the 16 products (exact in
            fp32) are summed by a balanced 4-level fp32 adder tree, then added to the accumulator
RD_MAC      appends the ``banks`` accumulators to ``reads`` (``n`` times) and clears them [assumed: a read
            consumes the result, so the next MAC_ABK starts a new dot product; PIM-GPT relies on it]
WR_BIAS     accumulators <- the next write item (``banks`` values), ``n`` times
WR_SBK, WR  the bank's columns <- the next write item: an array of ``n * access_elems`` values, or a pair
            ``(values, mask)`` whose False entries keep the stored value (a write data mask)
RD_SBK, RD  appends the ``n * access_elems`` stored values to ``reads``
MAC_SBK     as MAC_ABK in one bank
COPY_BKGB   GB columns 0..n-1 <- the bank's row columns ``col ..``; COPY_GBBK the other way
EWMUL, AF,  not modelled functionally: raise (no program executed this way uses them; their operand and
WR_ABK,     lookup-table semantics are not defined here)
RD_AF
ACT, PRE,   no data effect (the timing model's business)
SYNC, DELAY
==========  =====================================================================================

Channels whose instruction lists are the same object (a mapper that broadcasts one stream) run together, one
numpy operation over all of them.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from archsim.base.errors import SimulationError
from archsim.base.numerics import to_bf16
from archsim.cyclesim.dram.program import (DramBlock, DramProgram, DramRepeat, OP_ACT, OP_AF, OP_COPY_BKGB,
                                           OP_COPY_GBBK, OP_DELAY, OP_ARRIVE, OP_EWMUL, OP_RD_AF, OP_WR_ABK,
                                           OP_MAC_ABK, OP_MAC_SBK, OP_NAMES, OP_PRE, OP_RD, OP_RD_MAC, OP_RD_SBK,
                                           OP_SYNC, OP_WR, OP_WR_BIAS, OP_WR_GB, OP_WR_SBK, OP_MEMO)

__all__ = ["PimMemory", "tree16", "iter_instrs"]

_NO_DATA = frozenset((OP_ACT, OP_PRE, OP_SYNC, OP_DELAY, OP_ARRIVE))


def tree16(products: np.ndarray) -> np.ndarray:
    """Sum the last axis (a power of two, 16 for AiM) by a balanced adder tree, every level rounded to fp32."""
    p = products.astype(np.float32)
    while p.shape[-1] > 1:
        p = (p[..., 0::2] + p[..., 1::2]).astype(np.float32)
    return p[..., 0]


def iter_instrs(items):
    """The instruction tuples of one channel's list, blocks and repeats expanded, in program order (MEMO hints,
    which do nothing, left out)."""
    for it in items:
        if type(it) is tuple:
            if it[0] != OP_MEMO:
                yield it
        elif isinstance(it, DramBlock):
            yield from it.instrs
        elif isinstance(it, DramRepeat):
            for blk in it.blocks():
                yield from blk.instrs
        else:
            raise SimulationError(f"a DRAM program holds instructions, blocks and repeats, got {it!r}")


class PimMemory:
    """The data held by ``channels`` x ``banks`` PIM banks, their global buffers and MAC accumulators."""

    def __init__(self, *, channels: int, banks: int, rows: int, row_elems: int, access_elems: int,
                 gb_elems: int, accum: str = "fp32"):
        if accum not in ("fp32", "bf16"):
            raise SimulationError(f"MAC accumulator precision must be fp32 or bf16, got {accum!r}")
        if access_elems & (access_elems - 1) or row_elems % access_elems or gb_elems % access_elems:
            raise SimulationError(f"a column of {access_elems} values must be a power of two dividing the row "
                                  f"({row_elems}) and the global buffer ({gb_elems})")
        self.channels, self.banks, self.nrows = channels, banks, rows
        self.row_elems, self.ae, self.gb_elems, self.accum = row_elems, access_elems, gb_elems, accum
        self.ra = row_elems // access_elems
        self._rows: dict[int, np.ndarray] = {}  # row -> (channels, banks, row_elems)
        self.gb = np.zeros((channels, gb_elems), np.float32)
        self.acc = np.zeros((channels, banks), np.float32)
        self.counts: dict[str, int] = {}

    @classmethod
    def from_config(cls, cfg, gb_bytes: int, accum: str = "fp32", value_bytes: int = 2) -> "PimMemory":
        """From a :class:`~archsim.cyclesim.dram.config.DramConfig` (bf16 values: 2 bytes)."""
        return cls(channels=cfg.channels, banks=cfg.banks, rows=cfg.rows, row_elems=cfg.row_bytes // value_bytes,
                   access_elems=cfg.access_bytes // value_bytes, gb_elems=gb_bytes // value_bytes, accum=accum)

    # -- host-side placement (what loading the weights before the run amounts to) -----------------------------
    def row(self, r: int) -> np.ndarray:
        if not 0 <= r < self.nrows:
            raise SimulationError(f"row {r} out of range 0..{self.nrows - 1}")
        got = self._rows.get(r)
        if got is None:
            got = self._rows[r] = np.zeros((self.channels, self.banks, self.row_elems), np.float32)
        return got

    def store(self, ch, bank, row: int, elem: int, values, mask=None) -> None:
        """Write ``values`` (rounded to bf16) from element ``elem`` of ``row`` on, continuing on the next rows.
        ``ch``/``bank`` may be an int, a slice or an index array; values broadcast over them."""
        values = to_bf16(np.asarray(values, np.float32))
        n = values.shape[-1]
        keep = None if mask is None else ~np.asarray(mask, bool)
        done = 0
        while done < n:
            r, e = row + (elem + done) // self.row_elems, (elem + done) % self.row_elems
            k = min(n - done, self.row_elems - e)
            dst = self.row(r)
            part = values[..., done:done + k]
            if keep is not None:
                part = np.where(keep[..., done:done + k], dst[ch, bank, e:e + k], part)
            dst[ch, bank, e:e + k] = part
            done += k

    def load(self, ch, bank, row: int, elem: int, n: int) -> np.ndarray:
        out, done = [], 0
        while done < n:
            r, e = row + (elem + done) // self.row_elems, (elem + done) % self.row_elems
            k = min(n - done, self.row_elems - e)
            out.append(self.row(r)[ch, bank, e:e + k])
            done += k
        return np.concatenate(out, axis=-1)

    # -- execution ----------------------------------------------------------------------------------------------
    def execute(self, program, writes=None) -> list[list]:
        """Run ``program`` (a :class:`DramProgram` or per-channel lists) on the data; ``writes[c]`` is channel
        ``c``'s write items in order. Returns the read items per channel."""
        lists = program.channels if isinstance(program, DramProgram) else list(program)
        if len(lists) > self.channels:
            raise SimulationError(f"the program uses {len(lists)} channels but the memory has {self.channels}")
        wq = [deque(writes[c]) if writes is not None and c < len(writes) else deque() for c in range(len(lists))]
        reads: list[list] = [[] for _ in lists]
        groups: dict[int, list[int]] = {}
        for c, lst in enumerate(lists):
            groups.setdefault(id(lst), []).append(c)
        for chans in groups.values():
            self._run(lists[chans[0]], np.asarray(chans), wq, reads)
        return reads

    def _take(self, wq, chans, name: str, size: int, allow_mask: bool = False):
        vals, masks = [], []
        for c in chans:
            if not wq[c]:
                raise SimulationError(f"{name} on channel {c}: the host has no more write data")
            item = wq[c].popleft()
            mask = None
            if allow_mask and isinstance(item, tuple):
                item, mask = item
            item = np.asarray(item, np.float32).ravel()
            if item.size != size:
                raise SimulationError(f"{name} on channel {c}: write data of {item.size} values, expected {size}")
            vals.append(item)
            masks.append(np.ones(size, bool) if mask is None else np.asarray(mask, bool).ravel())
        return np.stack(vals), np.stack(masks)

    def _run(self, items, chans: np.ndarray, wq, reads) -> None:
        ae = self.ae
        for op, bank, row, col, n in iter_instrs(items):
            name = OP_NAMES[op]
            self.counts[name] = self.counts.get(name, 0) + len(chans)
            if op in _NO_DATA:
                continue
            if op == OP_WR_GB:
                if (col + n) * ae > self.gb_elems:
                    raise SimulationError(f"WR_GB of columns {col}..{col + n - 1} past the "
                                          f"{self.gb_elems // ae}-column global buffer")
                vals, _ = self._take(wq, chans, name, n * ae)
                self.gb[chans, col * ae:(col + n) * ae] = to_bf16(vals)
            elif op in (OP_MAC_ABK, OP_MAC_SBK):
                if n * ae > self.gb_elems:
                    raise SimulationError(f"{name} over {n} columns needs more than the global buffer holds")
                banks = slice(None) if op == OP_MAC_ABK else bank
                w = self.load(chans, banks, row, col * ae, n * ae)
                g = self.gb[chans, :n * ae]
                if op == OP_MAC_ABK:  # w: (chans, banks, n*ae)
                    prod = w.reshape(len(chans), self.banks, n, ae) * g.reshape(len(chans), 1, n, ae)
                    partial = tree16(prod)                               # (chans, banks, n)
                    acc = self.acc[chans]
                    for i in range(n):
                        acc = (acc + partial[..., i]).astype(np.float32)
                        if self.accum == "bf16":
                            acc = to_bf16(acc)
                    self.acc[chans] = acc
                else:  # w: (chans, n*ae)
                    partial = tree16(w.reshape(len(chans), n, ae) * g.reshape(len(chans), n, ae))
                    acc = self.acc[chans, bank]
                    for i in range(n):
                        acc = (acc + partial[:, i]).astype(np.float32)
                        if self.accum == "bf16":
                            acc = to_bf16(acc)
                    self.acc[chans, bank] = acc
            elif op == OP_RD_MAC:
                for _ in range(n):
                    for c in chans:
                        reads[c].append(self.acc[c].copy())
                self.acc[chans] = 0.0
            elif op == OP_WR_BIAS:
                for _ in range(n):
                    vals, _ = self._take(wq, chans, name, self.banks)
                    self.acc[chans] = vals
            elif op in (OP_WR_SBK, OP_WR):
                vals, masks = self._take(wq, chans, name, n * ae, allow_mask=True)
                for j, c in enumerate(chans):
                    self.store(int(c), bank, row, col * ae, vals[j], masks[j])
            elif op in (OP_RD_SBK, OP_RD):
                for c in chans:
                    reads[c].append(self.load(int(c), bank, row, col * ae, n * ae).copy())
            elif op == OP_COPY_BKGB:  # bank columns col.. -> GB columns 0.. (op-relative, as for MAC)
                if n * ae > self.gb_elems:
                    raise SimulationError(f"COPY_BKGB of {n} columns past the global buffer")
                for c in chans:
                    self.gb[c, :n * ae] = self.load(int(c), bank, row, col * ae, n * ae)
            elif op == OP_COPY_GBBK:  # GB columns 0.. -> bank columns col..
                if n * ae > self.gb_elems:
                    raise SimulationError(f"COPY_GBBK of {n} columns past the global buffer")
                for c in chans:
                    self.store(int(c), bank, row, col * ae, self.gb[c, :n * ae])
            elif op in (OP_EWMUL, OP_AF, OP_WR_ABK, OP_RD_AF):
                raise SimulationError(f"{name} has no functional model (it needs operand and lookup-table "
                                      f"semantics the data model does not define)")
            else:  # pragma: no cover - every op code is handled above
                raise SimulationError(f"unknown op {name}")
