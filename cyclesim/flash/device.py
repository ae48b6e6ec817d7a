"""The event-driven drive: a controller with a queue per die, dies, channel buses, drive DRAM and PCIe.

Operations (``read``, ``program``, ``erase``) name a channel, a way (die on that channel), the planes they use
(several planes of one die at the same block and page = a multi-plane operation) and a block and page. The
controller admits at most ``queue_depth`` outstanding operations (the rest wait in the host's submission queue,
in order), and keeps a FIFO per die. A die runs one operation at a time:

* read: the array senses for tR (all planes at once), then each plane's page leaves over the channel bus; the die
  holds its page registers until the last byte is out (no cache read), then takes its next operation. The data
  lands in drive DRAM; if it is bound for the host it then crosses the PCIe link (one FIFO resource).
* program: the data enters over the channel bus (from drive DRAM), then the array programs for tPROG.
* erase: the array is busy for tBERS.

The bus and the link serve requests in the order they become ready (events run in time order, so booking the
next free slot of a :class:`~archsim.cyclesim.kernel.Resource` at the ready time is FIFO). Programs and reads
on one die therefore serialize; reads on different dies of a channel overlap their tR and serialize their
transfers; different channels are independent until the PCIe link.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

from archsim.base.errors import SimulationError
from archsim.cyclesim.clock import Timebase
from archsim.cyclesim.flash.config import FLASH_CLOCK_MHZ, PS_PER_S, FlashConfig, PcieLink
from archsim.cyclesim.kernel import Resource, Simulator

OPS = ("read", "program", "erase")


@dataclass(slots=True)
class FlashOp:
    op: str
    channel: int
    way: int
    planes: tuple[int, ...] = (0,)
    block: int = 0
    page: int = 0
    to_host: bool = False
    callback: Callable[["FlashOp"], None] | None = None
    submitted_ps: int = 0
    done_ps: int = -1


class FlashDrive:
    """One drive on an event :class:`Simulator` whose ticks are picoseconds (see :func:`new_simulator`)."""

    def __init__(self, sim: Simulator, cfg: FlashConfig, *, pcie: PcieLink | None = None, name: str = "ssd",
                 queue_depth: int = 65536, dram_bytes_per_s: float = 0.0):
        if sim.timebase.tick_hz != PS_PER_S:
            raise SimulationError("a FlashDrive needs picosecond ticks; build the simulator with new_simulator()")
        if queue_depth < 1:
            raise SimulationError(f"queue_depth = {queue_depth}; expected at least 1")
        self.sim, self.cfg, self.pcie, self.name = sim, cfg, pcie, name
        self.queue_depth = queue_depth
        self.outstanding = 0
        self.max_die_queue = 0
        self.host_queue: deque[FlashOp] = deque()
        self.die_queue = [deque() for _ in range(cfg.dies)]
        self.die_running = [False] * cfg.dies
        self.die_array_ps = [0] * cfg.dies
        self.bus = [Resource(f"{name}.ch{c}") for c in range(cfg.channels)]
        self.link = Resource(f"{name}.pcie")
        # drive DRAM as a bandwidth stage (0: not modelled, the data lands at once)
        self.dram = Resource(f"{name}.dram")
        self.dram_ps_per_byte = PS_PER_S / dram_bytes_per_s if dram_bytes_per_s else 0.0
        self.counts = {"read_pages": 0, "program_pages": 0, "erase_blocks": 0, "bus_bytes": 0, "pcie_bytes": 0}
        self.completed: list[FlashOp] = []

    # -- submission -------------------------------------------------------------------------------------------
    def submit(self, op: str, channel: int, way: int, planes=(0,), block: int = 0, page: int = 0, *,
               to_host: bool = False, callback=None) -> FlashOp:
        cfg = self.cfg
        planes = tuple(planes)
        if op not in OPS:
            raise SimulationError(f"flash op {op!r}; expected one of: {', '.join(OPS)}")
        if not 0 <= channel < cfg.channels or not 0 <= way < cfg.ways:
            raise SimulationError(f"flash address channel {channel}, way {way}; the drive has {cfg.channels} "
                                  f"channels x {cfg.ways} ways")
        if not planes or len(set(planes)) != len(planes) or not all(0 <= p < cfg.planes for p in planes):
            raise SimulationError(f"flash planes {planes}; expected distinct planes in 0..{cfg.planes - 1}")
        if not 0 <= block < cfg.blocks_per_plane or not 0 <= page < cfg.pages_per_block:
            raise SimulationError(f"flash block {block}, page {page}; expected block < {cfg.blocks_per_plane} "
                                  f"and page < {cfg.pages_per_block}")
        req = FlashOp(op, channel, way, planes, block, page, to_host and op == "read", callback, self.sim.now)
        if self.outstanding < self.queue_depth:
            self._admit(req)
        else:
            self.host_queue.append(req)
        return req

    def _admit(self, req: FlashOp) -> None:
        self.outstanding += 1
        die = req.channel * self.cfg.ways + req.way
        q = self.die_queue[die]
        q.append(req)
        if len(q) > self.max_die_queue:
            self.max_die_queue = len(q)
        if not self.die_running[die]:
            self._next(die)

    # -- the die state machine ----------------------------------------------------------------------------------
    def _next(self, die: int) -> None:
        q = self.die_queue[die]
        if not q:
            self.die_running[die] = False
            return
        self.die_running[die] = True
        req = q.popleft()
        cfg, sim, now = self.cfg, self.sim, self.sim.now
        n = len(req.planes)
        if req.op == "read":
            self._array(die, req, cfg.read_ps, "read", n * cfg.read_energy_pj)
            sim.schedule(cfg.read_ps, self._sensed, req)
        elif req.op == "program":
            dur = n * cfg.xfer_ps
            start = self.bus[req.channel].reserve(now, dur)
            self._bus_bytes(n)
            sim.at(start + dur, self._program, req)
        else:
            self._array(die, req, cfg.erase_ps, "erase", n * cfg.erase_energy_pj)
            sim.schedule(cfg.erase_ps, self._die_done, req)

    def _array(self, die: int, req: FlashOp, dur: int, what: str, pj: float) -> None:
        self.die_array_ps[die] += dur
        n = len(req.planes)
        self.counts["read_pages" if what == "read" else "program_pages" if what == "program" else
                    "erase_blocks"] += n
        if pj:
            self.sim.ledger.add(self.name, f"flash_{what}", pj)

    def _bus_bytes(self, n_pages: int) -> None:
        nbytes = n_pages * self.cfg.page_bytes
        self.counts["bus_bytes"] += nbytes
        if self.cfg.bus_energy_pj_per_byte:
            self.sim.ledger.add(self.name, "channel_bus", nbytes * self.cfg.bus_energy_pj_per_byte)

    def _sensed(self, req: FlashOp) -> None:
        dur = len(req.planes) * self.cfg.xfer_ps
        start = self.bus[req.channel].reserve(self.sim.now, dur)
        self._bus_bytes(len(req.planes))
        self.sim.at(start + dur, self._read_out, req)

    def _read_out(self, req: FlashOp) -> None:
        die = req.channel * self.cfg.ways + req.way
        self._next(die)  # the page registers are empty: the die takes its next operation
        nbytes = len(req.planes) * self.cfg.page_bytes
        now = self.sim.now
        if self.dram_ps_per_byte:
            dur = round(nbytes * self.dram_ps_per_byte)
            now = self.dram.reserve(now, dur) + dur
        if req.to_host:
            if self.pcie is None:
                raise SimulationError(f"drive {self.name!r}: a read to the host needs a PCIe link")
            dur = self.pcie.transfer_ps(nbytes)
            start = self.link.reserve(now, dur)
            self.counts["pcie_bytes"] += nbytes
            if self.pcie.energy_pj_per_bit:
                self.sim.ledger.add(self.name, "pcie", self.pcie.energy_pj(nbytes))
            now = start + dur
        self.sim.at(now, self._complete, req)

    def _program(self, req: FlashOp) -> None:
        die = req.channel * self.cfg.ways + req.way
        self._array(die, req, self.cfg.prog_ps, "program", len(req.planes) * self.cfg.prog_energy_pj)
        self.sim.schedule(self.cfg.prog_ps, self._die_done, req)

    def _die_done(self, req: FlashOp) -> None:
        self._next(req.channel * self.cfg.ways + req.way)
        self._complete(req)

    def _complete(self, req: FlashOp) -> None:
        req.done_ps = self.sim.now
        self.completed.append(req)
        self.outstanding -= 1
        if self.host_queue:
            self._admit(self.host_queue.popleft())
        if req.callback is not None:
            req.callback(req)

    # -- figures -------------------------------------------------------------------------------------------------
    def stats(self, elapsed_ps: int | None = None) -> dict:
        t = self.sim.now if elapsed_ps is None else elapsed_ps
        out = dict(self.counts)
        out.update({
            "elapsed_ps": t,
            "die_array_busy_ps": sum(self.die_array_ps),
            "channel_bus_busy_ps": sum(b.busy_ticks for b in self.bus),
            "pcie_busy_ps": self.link.busy_ticks,
            "max_die_queue": self.max_die_queue,
        })
        return out


def new_simulator() -> Simulator:
    """An event simulator whose tick is one picosecond (the ``flash`` clock domain at 1 THz)."""
    return Simulator(Timebase({"flash": FLASH_CLOCK_MHZ}))


def striped_ops(cfg: FlashConfig, n_pages: int):
    """The layout the mapper uses for a run of ``n_pages`` pages: page ``k`` goes to channel ``k % channels``;
    on its channel, the ``planes`` consecutive pages ``m // planes`` form one multi-plane operation, dealt to
    the ways round-robin. Yields ``(channel, way, planes)`` per operation in submission order."""
    C, D, P = cfg.channels, cfg.ways, cfg.planes
    per_channel = [n_pages // C + (1 if c < n_pages % C else 0) for c in range(C)]
    n_ops = [-(-n // P) for n in per_channel]
    for j in range(max(n_ops, default=0)):
        for c in range(C):
            if j < n_ops[c]:
                size = min(P, per_channel[c] - j * P)
                yield c, j % D, tuple(range(size))


def run_striped(cfg: FlashConfig, n_pages: int, op: str = "read", *, pcie: PcieLink | None = None,
                to_host: bool = False, queue_depth: int = 65536) -> tuple[int, dict]:
    """Event-simulate ``n_pages`` striped operations submitted at time 0; returns (end ps, drive stats)."""
    sim = new_simulator()
    drive = FlashDrive(sim, cfg, pcie=pcie, queue_depth=queue_depth)
    for i, (c, w, planes) in enumerate(striped_ops(cfg, n_pages)):
        drive.submit(op, c, w, planes, block=(i // cfg.dies) % cfg.blocks_per_plane, to_host=to_host)
    end = sim.run()
    return end, drive.stats(end)
