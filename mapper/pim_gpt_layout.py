"""Where PIM-GPT puts every weight and every cached key/value in the banks, and whether it fits.

The DRAM is ``C`` channels of ``B`` banks working in lockstep (all-bank commands are channel-wide). One DRAM
row of a bank holds ``row_elems`` bf16 values (2 KB = 1,024 for GDDR6-AiM) and is read by the MAC unit in
``row_accesses`` columns of ``access_elems`` values (64 x 16). The global buffer (GB) of a channel holds the
broadcast input vector, ``gb_elems`` values (1,024).

Weight matrices (``y = W x``, ``N`` outputs, ``K`` inputs) [secondary: PIM-GPT's mapping scheme]:

* the input is split into **K-tiles** of at most ``gb_elems`` values (a matrix wider than a row is tiled with
  its vector; the ASIC adds the partial sums);
* outputs are split evenly over channels, then over the banks of a channel: a bank computes ``slots =
  ceil(ceil(N / C) / B)`` outputs; every channel gets the same number (the last one's spare banks compute
  padding) so all channels run the same command stream;
* per K-tile, one output needs ``a = ceil(k / access_elems)`` MAC columns; the outputs' segments are packed
  back to back along the bank's rows (several short rows fill one DRAM row, fewer ACT/PRE; a segment may
  continue on the next row), so the tile takes ``ceil(slots x a / row_accesses)`` rows per bank and its
  pattern repeats every ``period_outputs`` outputs = ``period_rows`` rows.

Attention [secondary: K and V space reserved for every future token; K row-major, V column-major]: heads are
split evenly over channels (``hpc = ceil(H / C)`` heads each, padded). In a channel, the K cache holds, per
token position, the channel's heads' key slices (``hpc x d_head`` values) as one row segment; positions are
spread over the banks. The V cache holds, per head dimension, a row of that dimension's values over positions
(column-major), ``ceil(max_positions / row_elems)`` rows per dimension. Space for ``max_positions`` tokens is
reserved up front.

Capacity is checked: a model that does not fit raises :class:`MappingError` saying how many rows per bank it
needs and how many there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd

from archsim.base.errors import MappingError

BF16_BYTES = 2


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Geometry:
    """The DRAM organization as the mapper sees it (derived from the spec's ``dram`` component)."""

    channels: int
    banks: int
    rows: int
    row_elems: int
    access_elems: int
    gb_elems: int

    @property
    def row_accesses(self) -> int:
        return self.row_elems // self.access_elems

    @classmethod
    def from_spec(cls, spec) -> "Geometry":
        p = spec.component("dram").params
        row_bytes = p["columns"] * p["device_width"] // 8
        access_bytes = p["device_width"] * p["burst_length"] // 8
        if access_bytes % BF16_BYTES or row_bytes % access_bytes:
            raise MappingError(f"a {access_bytes}-byte column access does not hold whole bf16 values",
                               file=spec.file, key="components.dram.device_width")
        gb = p["global_buffer_bytes"] // BF16_BYTES
        geo = cls(channels=p["channels"], banks=p["bank_groups"] * p["banks_per_group"], rows=p["rows"],
                  row_elems=row_bytes // BF16_BYTES, access_elems=access_bytes // BF16_BYTES,
                  gb_elems=gb - gb % (access_bytes // BF16_BYTES))
        if geo.gb_elems < geo.access_elems:
            raise MappingError(f"the global buffer ({p['global_buffer_bytes']} B) must hold at least one "
                               f"{access_bytes}-byte column", file=spec.file, key="components.dram.global_buffer_bytes")
        return geo


@dataclass(frozen=True)
class KTile:
    k: int               # input values in this tile
    accesses: int        # MAC columns per output
    period_outputs: int  # outputs after which the packing pattern repeats ...
    period_rows: int     # ... on the same columns, this many rows further
    rows: int            # rows per bank
    row_base: int        # first row (same in every bank)


@dataclass(frozen=True)
class MatrixLayout:
    name: str
    n: int
    k: int
    slots: int                # outputs per bank
    tiles: tuple[KTile, ...]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tiles)


@dataclass(frozen=True)
class KCacheLayout:
    heads_per_channel: int
    seg_accesses: int         # MAC columns of one position's key slice (all the channel's heads)
    per_row: int              # positions per row
    max_positions: int
    row_base: int
    rows: int


@dataclass(frozen=True)
class VCacheLayout:
    heads_per_channel: int
    dims_per_bank: int        # head dimensions (rows of V^T) per bank
    rows_per_dim: int         # ceil(max_positions / row_elems)
    max_positions: int
    row_base: int
    rows: int


@dataclass
class Layout:
    geometry: Geometry
    matrices: dict[str, MatrixLayout] = field(default_factory=dict)   # "L3.qkv", "lm_head", ...
    kcache: dict[int, KCacheLayout] = field(default_factory=dict)
    vcache: dict[int, VCacheLayout] = field(default_factory=dict)
    rows_used: int = 0

    @property
    def bytes_used(self) -> int:
        g = self.geometry
        return self.rows_used * g.row_elems * BF16_BYTES * g.banks * g.channels


class _Rows:
    """A bump allocator of rows, identical in every bank."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, n: int) -> int:
        base = self.next
        self.next += n
        return base


def matrix_layout(name: str, n: int, k: int, geo: Geometry, rows: _Rows) -> MatrixLayout:
    slots = ceil_div(ceil_div(n, geo.channels), geo.banks)
    tiles = []
    for k0 in range(0, k, geo.gb_elems):
        kt = min(geo.gb_elems, k - k0)
        acc = ceil_div(kt, geo.access_elems)  # a K-tile wider than a row (GB larger than a row) spans rows
        g = gcd(acc, geo.row_accesses)
        nrows = ceil_div(slots * acc, geo.row_accesses)
        tiles.append(KTile(k=kt, accesses=acc, period_outputs=geo.row_accesses // g, period_rows=acc // g,
                           rows=nrows, row_base=rows.take(nrows)))
    return MatrixLayout(name, n, k, slots, tuple(tiles))


def plan(config, spec, max_positions: int) -> Layout:
    """Lay out a GPT model's weights and a KV cache for ``max_positions`` tokens; raises if it does not fit."""
    geo = Geometry.from_spec(spec)
    d, H, dh, dff = config.d_model, config.n_heads, config.d_head, config.d_ff
    if config.n_kv_heads != H or config.activation != "gelu" or config.norm != "layernorm":
        raise MappingError(f"the PIM-GPT lowering maps GPT-style models (LayerNorm, GELU, multi-head attention); "
                           f"{config.name} has {config.norm}, {config.activation}, {config.n_kv_heads} KV heads",
                           key="workload")
    if dh % geo.access_elems:
        raise MappingError(f"head dimension {dh} is not a multiple of the {geo.access_elems}-value MAC column",
                           key="workload")
    if dh > geo.gb_elems:
        raise MappingError(f"head dimension {dh} does not fit the {geo.gb_elems}-value global buffer (each head's "
                           f"query is broadcast whole)", file=spec.file, key="components.dram.global_buffer_bytes")
    rows = _Rows()
    lay = Layout(geo)
    hpc = ceil_div(H, geo.channels)
    seg = hpc * dh // geo.access_elems
    if seg > geo.row_accesses:
        raise MappingError(f"{hpc} heads x {dh} values per channel exceed one DRAM row; use more channels",
                           key="components.dram.channels")
    for layer in range(config.n_layers):
        for mname, n, k in (("qkv", 3 * H * dh, d), ("proj", d, H * dh), ("fc1", dff, d), ("fc2", d, dff)):
            lay.matrices[f"L{layer}.{mname}"] = matrix_layout(f"L{layer}.{mname}", n, k, geo, rows)
        per_row = geo.row_accesses // seg
        pos_per_bank = ceil_div(max_positions, geo.banks)
        krows = ceil_div(pos_per_bank, per_row)
        lay.kcache[layer] = KCacheLayout(hpc, seg, per_row, max_positions, rows.take(krows), krows)
        dims_per_bank = ceil_div(hpc * dh, geo.banks)
        rpd = ceil_div(max_positions, geo.row_elems)
        vrows = dims_per_bank * rpd
        lay.vcache[layer] = VCacheLayout(hpc, dims_per_bank, rpd, max_positions, rows.take(vrows), vrows)
    lay.matrices["lm_head"] = matrix_layout("lm_head", config.vocab, d, geo, rows)
    # learned position embeddings: read row by row, kept as a plain table after the LM head
    pos_rows = ceil_div(ceil_div(config.max_context * d, geo.row_elems), geo.banks * geo.channels)
    rows.take(pos_rows)
    lay.rows_used = rows.next
    if rows.next > geo.rows:
        need = rows.next * geo.row_elems * BF16_BYTES * geo.banks * geo.channels
        have = geo.rows * geo.row_elems * BF16_BYTES * geo.banks * geo.channels
        raise MappingError(f"{config.name} with KV space for {max_positions} tokens needs {rows.next:,} rows per "
                           f"bank ({need / 2**30:.2f} GiB with padding) but a bank has {geo.rows:,} "
                           f"({have / 2**30:.2f} GiB in {geo.channels} channels x {geo.banks} banks)",
                           file=spec.file, key="components.dram.rows")
    return lay


# -- addresses (where a value lives; the functional co-simulation loads and reads through these) -------------
def output_place(j: int, slots: int, geo: Geometry) -> tuple[int, int, int]:
    """(channel, slot, bank) of output ``j`` of a matrix with ``slots`` outputs per bank: outputs go to the
    channels in blocks of ``slots x banks``; inside a channel, slot-major, so one RD_MAC after a slot's MACs
    returns ``banks`` consecutive outputs."""
    ch, r = divmod(j, slots * geo.banks)
    slot, bank = divmod(r, geo.banks)
    return ch, slot, bank


def segment_start(row_base: int, index: int, accesses: int, geo: Geometry) -> tuple[int, int]:
    """(row, element) where segment ``index`` of ``accesses`` columns starts when segments are packed back to
    back from ``row_base`` (a segment may continue on the next row)."""
    a = index * accesses
    return row_base + a // geo.row_accesses, (a % geo.row_accesses) * geo.access_elems


def v_place(vc: VCacheLayout, dim: int, position: int, geo: Geometry) -> tuple[int, int, int]:
    """(bank, row, element) of channel-local head dimension ``dim`` at ``position`` in the V cache (V^T rows)."""
    return (dim % geo.banks, vc.row_base + (dim // geo.banks) * vc.rows_per_dim + position // geo.row_elems,
            position % geo.row_elems)
