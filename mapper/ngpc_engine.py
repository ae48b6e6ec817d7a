"""The NGPC encoding engine's datapath as the mapper programs it: per-level registers and the three stages.

The mapper writes one :class:`LevelRegisters` per (engine, level) it assigns - the level-scale register, the
grid resolution, the table size, hashed or dense, the table's base address - and an engine runs
:func:`pos_fract`, :func:`grid_index` and :func:`interpolate` on fixed-point coordinates. This is the
hardware's view (per-dimension low/high corner terms combined per corner); ``archsim.workloads.hashgrid`` holds
the reference it must equal bit for bit, written from the equations separately. The corner indices it yields are
also the grid-SRAM address streams the cycle model runs on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.workloads.hashgrid import PRIMES, EngineFormat, GridConfig


@dataclass(frozen=True)
class LevelRegisters:
    level: int
    dims: int
    features: int
    scale_reg: int          # S_l, P fractional bits
    resolution: int
    table_entries: int      # T_l
    hashed: bool
    base_entry: int         # offset of the level's table in the concatenated parameters (entries)
    primes: tuple[int, ...] = PRIMES[:3]

    @property
    def entry_bytes(self) -> int:
        return 2 * self.features


def program_levels(cfg: GridConfig, fmt: EngineFormat) -> list[LevelRegisters]:
    """The per-level register values (what tiny-cuda-nn computes on the host, quantized to the engine)."""
    offs = cfg.offsets()
    return [LevelRegisters(lv, cfg.dims, cfg.features, fmt.scale_register(cfg, lv), cfg.resolution(lv),
                           cfg.table_size(lv), cfg.hashed(lv), offs[lv], PRIMES[:cfg.dims])
            for lv in range(cfg.levels)]


def pos_fract(X: np.ndarray, reg: LevelRegisters, fmt: EngineFormat):
    """Scaled position with C+P fractional bits -> (integer cell g, W-bit fraction f), each (n, D)."""
    shift = fmt.coord_bits + fmt.scale_bits
    p = X * reg.scale_reg + (1 << (shift - 1))
    return p >> shift, (p >> (shift - fmt.weight_bits)) & ((1 << fmt.weight_bits) - 1)


def grid_index(g: np.ndarray, reg: LevelRegisters) -> np.ndarray:
    """Table index (within the level) of each of the 2^D corners, (n, 2^D): per-dimension low/high terms,
    combined per corner by XOR (hashed) or sum (dense), then modulo T_l."""
    n, D = g.shape
    lo, hi = [], []
    for d in range(D):
        if reg.hashed:
            p = np.uint64(reg.primes[d])
            lo.append((g[:, d].astype(np.uint64) * p) & np.uint64(0xFFFFFFFF))
            hi.append(((g[:, d] + 1).astype(np.uint64) * p) & np.uint64(0xFFFFFFFF))
        else:
            s = reg.resolution ** d
            lo.append(g[:, d] * s)
            hi.append((g[:, d] + 1) * s)
    out = np.empty((n, 1 << D), dtype=np.int64)
    for c in range(1 << D):
        terms = [hi[d] if c >> d & 1 else lo[d] for d in range(D)]
        acc = terms[0]
        for t in terms[1:]:
            acc = acc ^ t if reg.hashed else acc + t
        out[:, c] = (acc % np.uint64(reg.table_entries)).astype(np.int64) if reg.hashed \
            else acc % reg.table_entries
    return out


def corner_weights(f: np.ndarray, fmt: EngineFormat) -> np.ndarray:
    """Unsigned corner weights with D*W fractional bits, (n, 2^D)."""
    n, D = f.shape
    one = 1 << fmt.weight_bits
    out = np.ones((n, 1 << D), dtype=np.int64)
    for c in range(1 << D):
        for d in range(D):
            out[:, c] *= f[:, d] if c >> d & 1 else one - f[:, d]
    return out


def interpolate(feats: np.ndarray, w: np.ndarray, dims: int, fmt: EngineFormat) -> np.ndarray:
    """sum_c w_c feat_c, rounded half up by an arithmetic shift of D*W bits, saturated to signed 16 bits.
    ``feats`` (n, 2^D, F) int16 words read from the grid SRAM."""
    shift = dims * fmt.weight_bits
    acc = np.einsum("nc,ncf->nf", w, feats.astype(np.int64))
    lim = 1 << (fmt.feature_bits - 1)
    return np.clip((acc + (1 << (shift - 1))) >> shift, -lim, lim - 1).astype(np.int16)


def corners(X: np.ndarray, reg: LevelRegisters, fmt: EngineFormat):
    """pos_fract then grid_index and the weights: ``(idx, w)``, each (n, 2^D)."""
    g, f = pos_fract(X, reg, fmt)
    return grid_index(g, reg), corner_weights(f, fmt)
