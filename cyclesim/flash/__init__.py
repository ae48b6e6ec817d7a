"""NAND flash: geometry and timing (:mod:`.config`), an event-driven drive model (:mod:`.device`) and the
closed forms that equal it for striped batches (:mod:`.burst`).

A drive is ``channels`` x ``ways`` dies (LUNs), each die ``planes`` planes of ``blocks_per_plane`` blocks of
``pages_per_block`` pages. A die is one resource (its array is busy for tR, tPROG or tBERS; a multi-plane
operation reads or programs one page on each of several planes at once); a channel bus is another, shared by
the dies on it, whose transfer time follows from its rate and width; the PCIe link to the host is a third.
Durations are integer picoseconds (the ``flash`` clock domain runs at 1 THz), rounded up once per operation.
"""

from archsim.cyclesim.flash.config import FlashConfig, PcieLink  # noqa: F401
