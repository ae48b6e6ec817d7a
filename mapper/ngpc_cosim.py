"""Functional co-simulation of the NGPC: execute the mapped frame's encoding and MLP on data models of the engines.

:func:`encode_job` runs every encoding engine of one :class:`~archsim.mapper.ngpc.EncodeJob` on its assigned
levels and query slices (the mapper's registers and the engine datapath of :mod:`archsim.mapper.ngpc_engine`),
reads the int16 grid words at the corner indices and interpolates; the results land in the MLP input layout
(level-major features). :func:`mlp_engine` runs a fully fused MLP on a ``R x C`` MAC array model: each layer in
``ceil(fan_in/R) x ceil(fan_out/C)`` weight tiles, fp16 x fp16 products accumulated in fp32 per tile and across
fan-in tiles, fp16 activations between layers. Tests compare the first with
:func:`archsim.workloads.hashgrid.engine_encode` bit for bit and the second with numpy.
"""

from __future__ import annotations

import numpy as np

from archsim.base.errors import SimulationError
from archsim.mapper.ngpc_engine import interpolate


def encode_job(job, tables: list[np.ndarray]) -> np.ndarray:
    """The encoded features (queries, L*F) int16 that the NFP's engines produce for ``job``."""
    grid = job.frame.grid
    out = np.full((job.queries, grid.out_features), np.iinfo(np.int16).min, dtype=np.int16)
    written = np.zeros((job.queries, grid.levels), dtype=bool)
    for eng in job.engine_corners():
        for lv, a, b, idx, w in eng:
            reg = job.regs[lv]
            words = tables[lv][idx]                                   # grid SRAM reads (n, 2^D, F)
            out[a:b, lv * reg.features:(lv + 1) * reg.features] = interpolate(words, w, reg.dims, job.fmt)
            written[a:b, lv] = True
    if not written.all():
        q, lv = np.argwhere(~written)[0]
        raise SimulationError(f"job b{job.batch} nfp{job.nfp}: level {lv} of query {q} was never encoded")
    return out


def mlp_engine(x: np.ndarray, weights, output_activation: str = "none", rows: int = 64, cols: int = 64):
    """The MLP engine's result: fp16 (n, n_out)."""
    h = np.asarray(x, dtype=np.float16)
    for li, w in enumerate(weights):
        w = np.asarray(w, dtype=np.float16)
        fi, fo = w.shape
        if h.shape[1] != fi:
            raise SimulationError(f"layer {li}: {h.shape[1]} inputs, weights expect {fi}")
        acc = np.zeros((h.shape[0], fo), dtype=np.float32)
        for i0 in range(0, fi, rows):            # fan-in tiles: partial sums accumulate in fp32
            for j0 in range(0, fo, cols):        # fan-out tiles
                a = h[:, i0:i0 + rows].astype(np.float32)
                b = w[i0:i0 + rows, j0:j0 + cols].astype(np.float32)
                acc[:, j0:j0 + cols] += a @ b
        last = li == len(weights) - 1
        if not last or output_activation == "relu":
            acc = np.maximum(acc, np.float32(0))
        h = acc.astype(np.float16)
    return h
