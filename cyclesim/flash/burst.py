"""Closed forms for striped flash batches: the end time the event model (:mod:`.device`) gives, without events.

For ``n`` pages laid out by :func:`~archsim.cyclesim.flash.device.striped_ops` and submitted together, each
channel is independent (no PCIe stage) and its dies take its multi-plane operations round-robin. With ``D``
ways, ``P`` planes, page transfer ``x``, one full operation's transfer ``X = P x`` and array time ``t`` (tR for
reads, tPROG for programs; a read transfers after its array time, a program before, which gives the same end):

* bus-bound (``t <= (D - 1) X``): a die is ready again before the bus comes back to it, so after the first
  array time the bus never idles: ``end = t + n_c x``;
* die-bound (``t >= (D - 1) X``): no die ever waits for the bus after its first turn; die ``i``'s ``k``-th
  operation ends at ``k t + (i + k) X``, and the last operation (index ``j``, round ``k = j // D + 1``, die
  ``i = j % D``, ``l`` pages) ends last: ``end = k t + (i + k - 1) X + l x``.

Both give the same value at ``t = (D - 1) X``. The drive ends when its fullest channel (``ceil(n / C)``
pages) does. Tests check these against the event model on generated cases.
"""

from __future__ import annotations

from archsim.cyclesim.flash.config import FlashConfig


def channel_ps(n_pages: int, ways: int, planes: int, array_ps: int, xfer_ps: int) -> int:
    """End time (ps) of ``n_pages`` striped operations on one channel, all submitted at time 0."""
    if n_pages <= 0:
        return 0
    full = planes * xfer_ps
    n_ops = -(-n_pages // planes)
    last = n_pages - (n_ops - 1) * planes
    if array_ps <= (ways - 1) * full:
        return array_ps + n_pages * xfer_ps
    j = n_ops - 1
    k, i = j // ways + 1, j % ways
    return k * array_ps + (i + k - 1) * full + last * xfer_ps


def striped_ps(cfg: FlashConfig, n_pages: int, op: str = "read") -> int:
    """End time (ps) of ``n_pages`` striped reads or programs on one drive (no PCIe stage)."""
    if op not in ("read", "program"):
        raise ValueError(f"op {op!r}; expected 'read' or 'program'")
    array = cfg.read_ps if op == "read" else cfg.prog_ps
    fullest = -(-n_pages // cfg.channels)
    return channel_ps(fullest, cfg.ways, cfg.planes, array, cfg.xfer_ps)


def striped_energy_pj(cfg: FlashConfig, n_pages: int, op: str = "read") -> dict[str, float]:
    """Dynamic energy (pJ by category) of ``n_pages`` striped reads or programs."""
    per_page = cfg.read_energy_pj if op == "read" else cfg.prog_energy_pj
    return {f"flash_{op}": n_pages * per_page, "channel_bus": n_pages * cfg.page_bytes * cfg.bus_energy_pj_per_byte}
