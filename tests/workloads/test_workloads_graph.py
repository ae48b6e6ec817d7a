"""OpGraph: building, errors, deterministic order, counting."""

import networkx as nx
import pytest

from archsim.base.errors import WorkloadError
from archsim.workloads import Elementwise, Gelu, Gemm, LayerNorm, OpGraph, build_step_graph, get_model


def _diamond(order):
    g = OpGraph("diamond")
    g.add(LayerNorm(name="ln", rows=1, cols=8), block="attn", layer=0)
    for n in order:
        g.add(Gemm(name=n, M=1, N=8, K=8), ["ln"], block="attn", layer=0)
    g.add(Elementwise(name="sum", rows=1, cols=8), [order[0], order[1]], block="attn", layer=0)
    return g


def test_add_and_access():
    g = _diamond(["b", "a"])
    assert len(g) == 4 and "a" in g and "zzz" not in g
    assert g.inputs("sum") == ("b", "a")
    assert g.attrs("a")["layer"] == 0 and g.attrs("a")["block"] == "attn"
    edge = g.nx.edges["ln", "a"]
    assert edge["tensor"] == "ln:out" and edge["bytes"] == 16
    assert isinstance(g.nx, nx.DiGraph) and nx.is_directed_acyclic_graph(g.nx)


def test_topo_is_insertion_ordered_and_deterministic():
    assert _diamond(["b", "a"]).topo() == ["ln", "b", "a", "sum"]
    assert _diamond(["a", "b"]).topo() == ["ln", "a", "b", "sum"]
    cfg = get_model("llama2-7b").scaled(n_layers=3, d_model=64, n_heads=4, n_kv_heads=2, d_ff=128, vocab=50)
    orders = {tuple(build_step_graph(cfg, q_len=1, kv_len=5).topo()) for _ in range(3)}
    assert len(orders) == 1
    order = orders.pop()
    assert order[:3] == ("embed.tokens", "L0.attn.norm", "L0.attn.qkv")
    assert order[-2:] == ("final.norm", "head.lm")
    assert [o.name for o in build_step_graph(cfg, q_len=1, kv_len=5)] == list(order)


def test_add_errors():
    g = OpGraph("g")
    g.add(Gemm(name="x", M=1, N=2, K=2))
    with pytest.raises(WorkloadError, match=r"^graph 'g': duplicate op name 'x'; expected unique names$"):
        g.add(Gemm(name="x", M=1, N=2, K=2))
    with pytest.raises(WorkloadError, match=r"op 'y' input 'nope' is not in the graph"):
        g.add(Gemm(name="y", M=1, N=2, K=2), ["nope"])
    with pytest.raises(WorkloadError, match=r"expected an Op"):
        g.add("x")  # type: ignore[arg-type]
    with pytest.raises(WorkloadError, match=r"no op named 'q'"):
        g.op("q")


def test_totals_and_by_kind():
    g = _diamond(["a", "b"])
    t = g.totals()
    assert t["ops"] == 4
    assert t["flops"] == 7 * 8 + 2 * (2 * 8 * 8) + 8
    assert t["bytes_read"] == 2 * (8 + 8 + 8) + 2 * 2 * (8 + 64) + 2 * 2 * 8
    assert t["bytes_written"] == 4 * 16
    df = g.by_kind()
    assert list(df["kind"]) == ["elementwise", "gemm", "layernorm"]
    assert list(df["count"]) == [1, 2, 1]
    assert df["flops"].sum() == t["flops"]
    assert (df["bytes"] == df["bytes_read"] + df["bytes_written"]).all()
    g.add(Gelu(name="act", rows=1, cols=8), ["sum"])  # totals are recomputed after an add
    assert g.totals()["ops"] == 5


def test_layers_and_signatures():
    cfg = get_model("gpt2-small").scaled(n_layers=3, d_model=32, n_heads=2, d_ff=64, vocab=40, max_context=16)
    g = build_step_graph(cfg, q_len=1, kv_len=4)
    assert g.layers() == [0, 1, 2]
    assert [o.name for o in g.layer_ops(1)][0] == "L1.attn.norm"
    assert g.layer_signature(0) == g.layer_signature(2)
    assert g.layer_signature(0) != build_step_graph(cfg, q_len=1, kv_len=5).layer_signature(0)
    assert g.attrs("L2.mlp.fc1")["block"] == "mlp" and g.attrs("head.lm")["layer"] is None
