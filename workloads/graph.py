"""``OpGraph``: a directed acyclic graph of ops, exported as a ``networkx.DiGraph``.

Nodes are op names carrying the attributes ``op`` (the ``Op``), ``inputs`` (the producer names in argument
order), ``layer`` (int or None), ``block`` (``'embed'``, ``'attn'``, ``'mlp'``, ``'head'``, ...) and ``index``
(insertion order). Edges run producer -> consumer and carry the ``tensor`` name and its ``bytes``.
The order of ``topo()`` is deterministic: among ready ops the one inserted first comes first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import networkx as nx

from archsim.base.errors import WorkloadError
from archsim.workloads.ops import Op

if TYPE_CHECKING:
    import pandas as pd


class OpGraph:
    """A workload graph (one forward step of a model, or any hand-built set of ops).

    ``add`` only accepts inputs that are already in the graph, so insertion order is a topological order and
    the one ``topo()`` returns (it equals networkx's lexicographical topological sort keyed by insertion
    index). Nodes live in plain dicts; the ``networkx.DiGraph`` is built on first use of ``nx``, which keeps
    building the thousands of step graphs of a long decode cheap.
    """

    def __init__(self, name: str = ""):
        self.name = name
        self._nodes: dict[str, dict] = {}
        self._nx: nx.DiGraph | None = None
        self._totals: dict | None = None
        self._signatures: dict[int, tuple] | None = None

    # -- building ----------------------------------------------------------------------------------------
    def add(self, op: Op, inputs: Iterable[str] = (), *, layer: int | None = None, block: str | None = None) -> Op:
        """Add ``op`` consuming the outputs of the already added ops named in ``inputs``; returns ``op``."""
        if not isinstance(op, Op):
            raise WorkloadError(f"graph {self.name!r}: cannot add {op!r}; expected an Op")
        nodes = self._nodes
        if op.name in nodes:
            raise WorkloadError(f"graph {self.name!r}: duplicate op name {op.name!r}; expected unique names")
        inputs = tuple(inputs)
        for src in inputs:
            if src not in nodes:
                raise WorkloadError(f"graph {self.name!r}: op {op.name!r} input {src!r} is not in the graph; "
                                    f"expected the name of an op added earlier")
        nodes[op.name] = {"op": op, "inputs": inputs, "layer": layer, "block": block, "index": len(nodes)}
        self._nx = self._totals = self._signatures = None
        return op

    # -- access ------------------------------------------------------------------------------------------
    @property
    def nx(self) -> nx.DiGraph:
        """The networkx graph (built on demand; treat as read-only). Nodes carry the attributes above; edges
        run producer -> consumer with the ``tensor`` name and its ``bytes``."""
        if self._nx is None:
            g = nx.DiGraph(name=self.name)
            for name, attrs in self._nodes.items():
                g.add_node(name, **attrs)
                for src in attrs["inputs"]:
                    g.add_edge(src, name, tensor=f"{src}:out", bytes=self._nodes[src]["op"].bytes_written())
            self._nx = g
        return self._nx

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __iter__(self) -> Iterator[Op]:
        """Ops in topological order."""
        return iter(self.ops())

    def __repr__(self) -> str:
        return f"OpGraph({self.name!r}, {len(self)} ops)"

    def _node(self, name: str) -> dict:
        try:
            return self._nodes[name]
        except (KeyError, TypeError):
            raise WorkloadError(f"graph {self.name!r}: no op named {name!r}") from None

    def op(self, name: str) -> Op:
        return self._node(name)["op"]

    def inputs(self, name: str) -> tuple[str, ...]:
        """Producer names of ``name``'s activation inputs, in argument order."""
        return self._node(name)["inputs"]

    def attrs(self, name: str) -> dict:
        """Node attributes (op, inputs, layer, block, index)."""
        return dict(self._node(name))

    def topo(self) -> list[str]:
        """Op names in deterministic topological order (ties broken by insertion order)."""
        return list(self._nodes)

    def ops(self) -> list[Op]:
        """Ops in topological order."""
        return [a["op"] for a in self._nodes.values()]

    # -- repeated layers ---------------------------------------------------------------------------------
    def layers(self) -> list[int]:
        """Layer indices present, ascending."""
        return sorted({a["layer"] for a in self._nodes.values() if a["layer"] is not None})

    def layer_ops(self, layer: int) -> list[Op]:
        """Ops of one layer in topological order."""
        return [a["op"] for a in self._nodes.values() if a["layer"] == layer]

    def layer_signature(self, layer: int) -> tuple:
        """Hashable description of a layer's work without names: equal signatures mean identical layers."""
        if self._signatures is None:
            sigs: dict[int, list] = {}
            for a in self._nodes.values():
                if a["layer"] is not None:
                    sigs.setdefault(a["layer"], []).append((a["block"], a["op"].signature()))
            self._signatures = {k: tuple(v) for k, v in sigs.items()}
        return self._signatures.get(layer, ())

    # -- counting ----------------------------------------------------------------------------------------
    def totals(self) -> dict[str, int | float]:
        """``{'ops', 'flops', 'bytes_read', 'bytes_written'}`` summed over all ops."""
        if self._totals is None:
            ops = self.ops()
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
        for op in self.ops():
            r = rows.setdefault(op.kind, [op.kind, 0, 0, 0, 0])
            r[1] += 1
            r[2] += op.flops()
            r[3] += op.bytes_read()
            r[4] += op.bytes_written()
        import pandas as pd  # here, not at import time: most runs never build a table (about 0.4 s)
        df = pd.DataFrame(sorted(rows.values()), columns=["kind", "count", "flops", "bytes_read", "bytes_written"])
        df["bytes"] = df["bytes_read"] + df["bytes_written"]
        return df
