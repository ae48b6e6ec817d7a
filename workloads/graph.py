"""``OpGraph``: a directed acyclic graph of ops on top of ``networkx.DiGraph``.

Nodes are op names carrying the attributes ``op`` (the ``Op``), ``inputs`` (the producer names in argument
order), ``layer`` (int or None), ``block`` (``'embed'``, ``'attn'``, ``'mlp'``, ``'head'``, ...) and ``index``
(insertion order). Edges run producer -> consumer and carry the ``tensor`` name and its ``bytes``.
The order of ``topo()`` is deterministic: among ready ops the one inserted first comes first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import networkx as nx
import pandas as pd

from archsim.errors import WorkloadError
from workloads.ops import Op


class OpGraph:
    """A workload graph (one forward step of a model, or any hand-built set of ops)."""

    def __init__(self, name: str = ""):
        self.name = name
        self._g = nx.DiGraph(name=name)
        self._topo: list[str] | None = None
        self._totals: dict | None = None

    # -- building ----------------------------------------------------------------------------------------
    def add(self, op: Op, inputs: Iterable[str] = (), *, layer: int | None = None, block: str | None = None) -> Op:
        """Add ``op`` consuming the outputs of the already added ops named in ``inputs``; returns ``op``."""
        if not isinstance(op, Op):
            raise WorkloadError(f"graph {self.name!r}: cannot add {op!r}; expected an Op")
        if op.name in self._g:
            raise WorkloadError(f"graph {self.name!r}: duplicate op name {op.name!r}; expected unique names")
        inputs = tuple(inputs)
        for src in inputs:
            if src not in self._g:
                raise WorkloadError(f"graph {self.name!r}: op {op.name!r} input {src!r} is not in the graph; "
                                    f"expected the name of an op added earlier")
        self._g.add_node(op.name, op=op, inputs=inputs, layer=layer, block=block, index=len(self._g))
        for src in inputs:
            self._g.add_edge(src, op.name, tensor=f"{src}:out", bytes=self._g.nodes[src]["op"].bytes_written())
        self._topo = self._totals = None
        return op

    # -- access ------------------------------------------------------------------------------------------
    @property
    def nx(self) -> nx.DiGraph:
        """The underlying networkx graph (treat as read-only)."""
        return self._g

    def __len__(self) -> int:
        return len(self._g)

    def __contains__(self, name: object) -> bool:
        return name in self._g

    def __iter__(self) -> Iterator[Op]:
        """Ops in topological order."""
        return iter(self.ops())

    def __repr__(self) -> str:
        return f"OpGraph({self.name!r}, {len(self)} ops)"

    def op(self, name: str) -> Op:
        try:
            return self._g.nodes[name]["op"]
        except KeyError:
            raise WorkloadError(f"graph {self.name!r}: no op named {name!r}") from None

    def inputs(self, name: str) -> tuple[str, ...]:
        """Producer names of ``name``'s activation inputs, in argument order."""
        self.op(name)
        return self._g.nodes[name]["inputs"]

    def attrs(self, name: str) -> dict:
        """Node attributes (op, inputs, layer, block, index)."""
        self.op(name)
        return dict(self._g.nodes[name])

    def topo(self) -> list[str]:
        """Op names in deterministic topological order (ties broken by insertion order)."""
        if self._topo is None:
            nodes = self._g.nodes
            self._topo = list(nx.lexicographical_topological_sort(self._g, key=lambda n: nodes[n]["index"]))
        return list(self._topo)

    def ops(self) -> list[Op]:
        """Ops in topological order."""
        nodes = self._g.nodes
        return [nodes[n]["op"] for n in self.topo()]

    # -- repeated layers ---------------------------------------------------------------------------------
    def layers(self) -> list[int]:
        """Layer indices present, ascending."""
        return sorted({a for _, a in self._g.nodes(data="layer") if a is not None})

    def layer_ops(self, layer: int) -> list[Op]:
        """Ops of one layer in topological order."""
        nodes = self._g.nodes
        return [nodes[n]["op"] for n in self.topo() if nodes[n]["layer"] == layer]

    def layer_signature(self, layer: int) -> tuple:
        """Hashable description of a layer's work without names: equal signatures mean identical layers."""
        nodes = self._g.nodes
        return tuple((nodes[n]["block"], nodes[n]["op"].signature()) for n in self.topo() if nodes[n]["layer"] == layer)

    # -- counting ----------------------------------------------------------------------------------------
    def totals(self) -> dict[str, int | float]:
        """``{'ops', 'flops', 'bytes_read', 'bytes_written'}`` summed over all ops."""
        if self._totals is None:
            ops = [d["op"] for _, d in self._g.nodes(data=True)]
            self._totals = {
                "ops": len(ops),
                "flops": sum(o.flops() for o in ops),
                "bytes_read": sum(o.bytes_read() for o in ops),
                "bytes_written": sum(o.bytes_written() for o in ops),
            }
        return dict(self._totals)

    def by_kind(self) -> pd.DataFrame:
        """One row per op kind (sorted by kind): count, flops, bytes_read, bytes_written, bytes."""
        rows: dict[str, list] = {}
        for _, op in self._g.nodes(data="op"):
            r = rows.setdefault(op.kind, [op.kind, 0, 0, 0, 0])
            r[1] += 1
            r[2] += op.flops()
            r[3] += op.bytes_read()
            r[4] += op.bytes_written()
        df = pd.DataFrame(sorted(rows.values()), columns=["kind", "count", "flops", "bytes_read", "bytes_written"])
        df["bytes"] = df["bytes_read"] + df["bytes_written"]
        return df
