"""Cycle models of the NGPC (impl ``NGPC``) and of the GPU's remaining kernels (impl ``NgpBaseline``).

Encoding engine (op ``encode``, one command per NFP and batch; the work's ``job`` yields each engine's stream
of corner byte addresses, in query order):

* grid SRAM as a direct-mapped cache of the level's table, ``grid_sram_bytes / grid_sram_line_bytes`` lines:
  a corner read hits iff the last line held by its set is its own line (misses and hits come from the
  addresses the sample points touch); the cache starts a batch with what the engine's previous batch left in
  it (the job's ``warm`` stream is run through it first, uncounted);
* banks: a query's 2^D corner reads take ``max(1, ceil(max reads to one bank / ports))`` cycles; the bank of
  a read is its corner's coordinate parities (``bank_mapping: parity``) or its entry index mod the banks;
* misses: the level tables that fit together in ``l2_table_bytes`` (smallest first) are L2-resident and their
  misses are L2 hits; the others' misses go to DRAM. At most ``num_mshrs`` misses are outstanding per engine:
  an engine's batch takes ``max(issue cycles, ceil((m_L2 lat_L2 + m_DRAM lat_DRAM) / mshrs)) + pipeline depth
  (+ the longest latency it waited for)``; the line fills (ops ``fill_l2`` and ``fill_dram``, one each per NFP
  and batch, on the shared ``l2`` and ``dram`` engines) move ``misses x line`` bytes at ``l2_bw_gb_per_s`` and
  ``dram_bw_gb_per_s``, shared by every NFP because one engine serves each path's fills in order.

An NFP's ``encode`` time is its slowest engine's. MLP engine (op ``mlp``): a weight-stationary
``R x C`` array, one layer at a time, activations on chip: a layer of fan-in ``a`` and fan-out ``b`` over
``n`` rows takes ``ceil(a/R) ceil(b/C) (load + n + R + C - 2)`` cycles (load the tile, stream the rows in, the
last result leaves the array's far corner R + C - 2 cycles after the last row enters).

GPU (op ``rest``): the fused rest of kernels of ``samples`` samples: the baseline's unfused rest share of
the app's time per sample, divided by the fused speedup.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from archsim.base.errors import SimulationError
from archsim.cyclesim.engines import EngineModel, engine_model


def direct_mapped_miss_mask(lines: np.ndarray, n_sets: int, warm: np.ndarray | None = None) -> np.ndarray:
    """Which accesses of the line stream ``lines`` (in access order) miss in a direct-mapped cache of ``n_sets``
    lines, after the stream ``warm`` went through it. Exact and vectorized: an access hits iff the previous
    access to its set (in time) was to the same line."""
    lines = np.asarray(lines, dtype=np.int64).ravel()
    if warm is not None and warm.size:
        allx = np.concatenate([np.asarray(warm, dtype=np.int64).ravel(), lines])
        first = allx.size - lines.size
    else:
        allx, first = lines, 0
    sets = allx % n_sets
    if n_sets <= 32767:   # numpy's stable sort is a radix sort on 16-bit keys
        sets = sets.astype(np.int16)
    order = np.argsort(sets, kind="stable")
    s, ln = sets[order], allx[order]
    hit = np.zeros(allx.size, dtype=bool)
    hit[order[1:]] = (s[1:] == s[:-1]) & (ln[1:] == ln[:-1])
    return ~hit[first:]


def direct_mapped_misses(lines: np.ndarray, n_sets: int, warm: np.ndarray | None = None) -> int:
    return int(direct_mapped_miss_mask(lines, n_sets, warm).sum())


def l2_resident(table_bytes: list[int], capacity: int) -> np.ndarray:
    """Which tables are L2-resident: the smallest first, while they fit together."""
    out = np.zeros(len(table_bytes), dtype=bool)
    used = 0
    for lv in sorted(range(len(table_bytes)), key=lambda i: (table_bytes[i], i)):
        if used + table_bytes[lv] > capacity:
            break
        used += table_bytes[lv]
        out[lv] = True
    return out


def bank_cycles(banks: np.ndarray, n_banks: int, ports: int = 1) -> int:
    """Issue cycles of queries whose corner reads go to ``banks`` (n, K): sum over queries of
    max(1, ceil(max reads to one bank / ports))."""
    n, k = banks.shape
    if n == 0:
        return 0
    load = np.zeros(n, dtype=np.int64)
    for b in range(n_banks):
        np.maximum(load, (banks == b).sum(axis=1), out=load)
    return int(np.maximum(-(-load // ports), 1).sum())


def mlp_layer_cycles(rows: int, fan_in: int, fan_out: int, array_rows: int, array_cols: int, load: int) -> int:
    tiles = math.ceil(fan_in / array_rows) * math.ceil(fan_out / array_cols)
    return tiles * (load + rows + array_rows + array_cols - 2)


@engine_model("NGPC")
class NgpcModel(EngineModel):
    """One program engine per NFP part (``enc<k>``, ``mlp<k>``) plus the shared ``mem`` engine, all on the
    ``NGPC`` component; the op says which."""

    def __init__(self, name: str, impl: str, params: dict[str, Any]):
        super().__init__(name, impl, params)
        p = params
        self.n_sets = p["grid_sram_bytes"] // p["grid_sram_line_bytes"]
        self.depth = p["pos_fract_cycles"] + p["grid_index_cycles"] + p["interp_cycles"]
        self.l2_bytes_per_cycle = p["l2_bw_gb_per_s"] * 1e3 / p["freq_mhz"]
        self.dram_bytes_per_cycle = p["dram_bw_gb_per_s"] * 1e3 / p["freq_mhz"]
        self.key = tuple(sorted((k, v) for k, v in p.items() if not isinstance(v, dict)))

    def engine_stats(self, stream: dict, resident: np.ndarray) -> dict[str, int]:
        """Cycles, queries, reads and misses (L2 and DRAM) of one engine's stream (see the module docstring).
        ``stream["levels"]`` is the level of each query row; ``resident`` which levels are L2-resident."""
        p = self.params
        addr, eb = stream["addr"], stream["entry_bytes"]
        line = p["grid_sram_line_bytes"]
        warm = stream.get("warm")
        n, k = addr.shape
        if n == 0:
            return {"cycles": 0, "queries": 0, "reads": 0, "misses": 0, "misses_l2": 0, "issue_cycles": 0}
        mask = direct_mapped_miss_mask(addr // line, self.n_sets, None if warm is None else warm // line)
        per_row = mask.reshape(n, k).sum(axis=1)
        m_l2 = int(per_row[resident[stream["levels"]]].sum())
        m_dram = int(per_row.sum()) - m_l2
        nb, ports = p["num_grid_sram_banks"], p["num_grid_sram_ports"]
        if p["bank_mapping"] == "parity":
            # corner c reads bank c mod banks: the same counts for every query
            per_bank = -(-k // nb)
            issue = n * max(1, -(-per_bank // ports))
        else:
            issue = bank_cycles((addr // eb) % nb, nb, ports)
        l2_lat, dram_lat = p["l2_latency_cycles"], p["dram_latency_cycles"]
        stall = math.ceil((m_l2 * l2_lat + m_dram * dram_lat) / p["num_mshrs"])
        tail = dram_lat if m_dram else (l2_lat if m_l2 else 0)
        return {"cycles": max(issue, stall) + self.depth + tail, "queries": n, "reads": n * k,
                "misses": m_l2 + m_dram, "misses_l2": m_l2, "issue_cycles": issue}

    def job_stats(self, job) -> dict[str, int]:
        """An NFP batch: its engines' stats (the representative's, scaled to this job's queries, when the
        program is sampled); memoized on the job."""
        rep = job.representative
        memo = rep.memo
        got = memo.get(self.key)
        if got is None:
            resident = l2_resident(rep.table_bytes(), self.params["l2_table_bytes"])
            per = [self.engine_stats(s, resident) for s in rep.engine_streams()]
            got = {"cycles": max((e["cycles"] for e in per), default=0),
                   **{k: sum(e[k] for e in per) for k in ("queries", "reads", "misses", "misses_l2",
                                                          "issue_cycles")}}
            memo[self.key] = got
        if rep is job:
            return got
        f = job.queries / rep.queries
        return {k: round(v * f) for k, v in got.items()}

    def cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        p = self.params
        if op == "encode":
            st = self.job_stats(work["job"])
            return max(1, st["cycles"]), st["reads"] * p["sram_pj_per_access"]
        if op in ("fill_l2", "fill_dram"):
            st = self.job_stats(work["job"])
            m = st["misses_l2"] if op == "fill_l2" else st["misses"] - st["misses_l2"]
            nbytes = m * p["grid_sram_line_bytes"]
            if op == "fill_l2":
                return max(1, math.ceil(nbytes / self.l2_bytes_per_cycle)), nbytes * p["l2_pj_per_byte"]
            return max(1, math.ceil(nbytes / self.dram_bytes_per_cycle)), nbytes * p["dram_pj_per_byte"]
        if op == "mlp":
            rows = work["rows"]
            cyc = sum(mlp_layer_cycles(rows, a, b, p["num_mlp_rows"], p["num_mlp_cols"],
                                       p["mlp_weight_load_cycles"]) for a, b in work["layers"])
            macs = rows * sum(a * b for a, b in work["layers"])
            return max(1, cyc), macs * p["mac_pj_per_mac"]
        raise self.unsupported(op)


@engine_model("NgpBaseline")
class NgpGpuModel(EngineModel):
    def cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        if op != "rest":
            raise self.unsupported(op)
        ns = rest_ns_per_sample(self.params, work["app"], work["encoding"])
        return max(1, math.ceil(work["samples"] * ns * 1e-3 * self.params["freq_mhz"])), 0.0


def gpu_ns_per_sample(p: dict[str, Any], app: str, encoding: str) -> float:
    """The baseline GPU's whole time per sample of ``app`` with ``encoding`` (unfused, as measured)."""
    try:
        base = p["ns_per_sample"][app]
    except KeyError:
        raise SimulationError(f"the GPU baseline has no ns_per_sample for app {app!r}") from None
    return base * p["encoding_time_ratio"].get(encoding, 1.0)


def rest_ns_per_sample(p: dict[str, Any], app: str, encoding: str) -> float:
    """The fused rest of kernels per sample: (1 - encoding - MLP share) of the GPU time / fused speedup."""
    if encoding not in p["encoding_fraction"]:
        raise SimulationError(f"the GPU baseline has no kernel split for encoding {encoding!r}")
    rest = 1.0 - p["encoding_fraction"][encoding] - p["mlp_fraction"][encoding]
    return gpu_ns_per_sample(p, app, encoding) * rest / p["rest_fused_speedup_ratio"]
