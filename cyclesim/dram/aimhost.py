"""The AiM host's bounded per-channel queues: replaying an AiM-format trace with queue-full stalls.

In the public AiM simulator the host (its AiM DMA) decodes one trace line per cycle and sends the line's requests
to the channel controllers; a controller whose queue holds ``aim_queue_entries`` requests refuses, the host
retries every cycle and decodes nothing else until the whole line is in (then the next line one cycle later).
Default depth 32: the public AiM simulator (Ramulator 2.0's ``ReqBuffer`` ``max_size`` for the AiM controller's
read, write and AiM buffers). Here one queue per channel counts every request (MEM and AiM never share a
controller at the same time, so the two kinds never fill one queue together); a request leaves the queue when its
column command issues (AiM: its MAC16 / WRGB / ...; MEM: its RD / WR), and its slot is used again the cycle after.
SYNC and EOC requests are not counted (they leave as soon as they reach the head). A line that switches a
channel between MEM and AiM requests also stalls the host until the channel's last request of the other kind has
left (its controller refuses the new kind until then, as the AiM simulator's does).

The stalls depend on when requests leave, which depends on when the later lines arrive, so :func:`run_aim`
iterates: replay with the host's decode cycles, take each channel's leave cycles from the command trace, recompute
the decode cycles (a line waits for the slot of the request ``depth`` places ahead of each of its requests), until
they no longer change. The host is causal (a stall depends only on earlier requests) and the decode cycles only
grow, so this ends; each round fixes at least the first line that was still wrong.
"""

from __future__ import annotations

from archsim.base.errors import SimulationError
from archsim.cyclesim.dram.tracefile import read_lines

AIM_QUEUE_DEFAULT = 32   # public AiM simulator: Ramulator 2.0 ReqBuffer max_size (AiM controller buffers)
# the column command that ends (and dequeues) one request
LEAVE_COMMANDS = frozenset(("RD", "WR", "WRGB", "MAC16", "MAC", "EWMUL16", "AF16", "RDMAC16", "WRMAC16", "RDAF16",
                            "WRA16", "RDCP", "WRCP"))
MAX_ROUNDS = 10_000


def queue_depth(cfg) -> int:
    d = int(cfg.params.get("aim_queue_entries", AIM_QUEUE_DEFAULT))
    if d < 1:
        raise SimulationError(f"aim_queue_entries must be at least 1, got {d}")
    return d


def host_offsets(host, bases, leaves, depth) -> list[int]:
    """Each decoded line's decode cycle after its segment's base. ``host``: per line (segment, {channel:
    (requests, kind)}); ``bases``: the segments' base cycles; ``leaves``: per channel the sorted cycles its requests left
    the queue (from the previous round)."""
    out = []
    used: dict[int, int] = {}      # requests sent to each channel so far
    kind: dict[int, str] = {}      # the kind of the last request sent to each channel
    seg_prev, d = -1, 0
    for seg, reqs in host:
        if seg != seg_prev:
            d = bases[seg]
            seg_prev = seg
        last = d
        for c, (n, what) in reqs.items():
            m0 = used.get(c, 0)
            lv = leaves.get(c, ())
            if kind.get(c, what) != what and m0 - 1 < len(lv) and lv[m0 - 1] + 1 > last:
                last = lv[m0 - 1] + 1  # the controller refuses the other kind until its last request left
            kind[c] = what
            for m in range(max(m0, depth), m0 + n):
                j = m - depth
                if j < len(lv) and lv[j] + 1 > last:
                    last = lv[j] + 1   # the slot of request j frees when it issues; the host retries a cycle later
            used[c] = m0 + n
        out.append(d - bases[seg])
        d = last + 1
    return out


def run_aim(source, system_factory, trace: bool = False):
    """Replay the AiM-format ``source`` with queue-full stalls: returns (result, program) of the final round.
    ``system_factory()`` builds a fresh :class:`DramSystem` (each round starts from the same state)."""
    from archsim.cyclesim.dram.aimtrace import parse_aim

    lines, file = read_lines(source)
    src = lines if file is None else file
    system = system_factory()
    depth = queue_depth(system.cfg)
    host: list = []
    program = parse_aim(src, system, host=host)
    offsets = _natural(host)
    for _ in range(MAX_ROUNDS):
        res = system.run(program, trace=True)
        leaves: dict[int, list[int]] = {}
        for t, c, _b, name, _r, _col in res.trace:
            if name in LEAVE_COMMANDS:
                leaves.setdefault(c, []).append(t)
        for v in leaves.values():
            v.sort()
        new = host_offsets(host, system._ctls[0].bases, leaves, depth)
        if new == offsets:
            break
        offsets = new
        system = system_factory()
        program = parse_aim(src, system, offsets=offsets)
    else:  # pragma: no cover
        raise SimulationError(f"the AiM host model did not settle in {MAX_ROUNDS} rounds")
    if not trace:
        res.trace = None
    return res, program


def _natural(host) -> list[int]:
    """The decode offsets without stalls: the k-th line of a segment at k."""
    out, seg_prev, k = [], -1, 0
    for seg, _reqs in host:
        k = 0 if seg != seg_prev else k + 1
        seg_prev = seg
        out.append(k)
    return out
