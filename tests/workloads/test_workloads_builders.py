"""Workloads: step structure, lazy graphs, closed-form totals, errors."""

import re
import time

import pytest

from archsim import workloads
from archsim.base.errors import WorkloadError
from archsim.workloads import Attention, Gemm, KVAppend, MpGemm, Step, Workload, get_model


def _gpt_decode_flops(c, kv_lens, batch=1):
    """Decode FLOPs of a GPT-2-style model written out from the architecture (independent of the builders)."""
    d, L, H, dh, V, ff = c.d_model, c.n_layers, c.n_heads, c.d_head, c.vocab, c.d_ff
    total = 0
    for kv in kv_lens:
        per_token = (
            d  # embedding add
            + L * (2 * d * 3 * d + 3 * d)  # QKV projection + bias
            + L * (4 * H * dh * kv + 6 * H * kv)  # QK^T, scale, softmax, AV over kv keys
            + L * (2 * d * d + d)  # output projection + bias
            + L * (2 * d * ff + ff + 2 * ff * d + d)  # FC1, FC2 + biases
            + L * 9 * ff  # GELU
            + L * 2 * d  # two residual adds
            + (2 * L + 1) * 7 * d  # LayerNorms
            + 2 * d * V  # LM head
        )
        total += batch * per_token
    return total


def test_gpt2_xl_decode_totals_formula_and_speed():
    c = get_model("gpt2-xl")
    t0 = time.perf_counter()
    w = workloads.gpt("gpt2-xl").decode(prompt=0, tokens=1024)
    tot = w.totals()
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, f"totals took {elapsed:.2f} s"
    assert tot["steps"] == 1024
    assert tot["flops"] == _gpt_decode_flops(c, range(1, 1025))
    # ~ 2 x non-embedding parameters + LM head + attention (within 0.5%)
    attn = sum(4 * c.n_layers * c.d_model * kv for kv in range(1, 1025))
    approx = 1024 * (2 * c.param_count(with_embeddings=False) + 2 * c.d_model * c.vocab) + attn
    assert tot["flops"] == pytest.approx(approx, rel=0.005)
    per_step_ops = 3 + 11 * 48 + 2
    assert tot["ops"] == 1024 * per_step_ops
    # weights streamed once per token dominate the bytes (fp16)
    assert tot["bytes_read"] > 1024 * 2 * c.linear_weight_count()


def test_closed_form_totals_equal_summed_steps():
    cfg = get_model("llama2-70b").scaled(n_layers=2, d_model=64, n_heads=8, n_kv_heads=2, d_ff=96, vocab=50,
                                         max_context=64)
    w = workloads.model(cfg).decode(prompt=5, tokens=20, batch=3)
    summed = {k: 0 for k in ("ops", "flops", "bytes_read", "bytes_written")}
    for s in w.steps():
        for k, v in s.graph.totals().items():
            summed[k] += v
    assert w.totals() == {"steps": 20, **summed}
    df = w.by_kind().set_index("kind")
    assert df["flops"].sum() == summed["flops"] and df.at["attention", "count"] == 2 * 20


def test_decode_steps():
    w = workloads.model("gpt2-small").decode(prompt=128, tokens=4, batch=2)
    assert (w.model.name, w.phase, w.prompt, w.tokens, w.batch) == ("gpt2-small", "decode", 128, 4, 2)
    steps = list(w.steps())
    assert all(isinstance(s, Step) for s in steps)
    assert [(s.index, s.q_len, s.kv_len) for s in steps] == [(0, 1, 129), (1, 1, 130), (2, 1, 131), (3, 1, 132)]
    g = steps[2].graph
    att = g.op("L3.attn.attention")
    assert isinstance(att, Attention) and (att.q_len, att.kv_len, att.batch, att.heads) == (1, 131, 2, 12)
    qkv = g.op("L3.attn.qkv")
    assert isinstance(qkv, Gemm) and qkv.is_gemv is False and (qkv.M, qkv.K, qkv.N) == (2, 768, 3 * 768)
    assert g.attrs("L3.attn.qkv")["layer"] == 3 and g.attrs("L3.attn.qkv")["block"] == "attn"
    assert g.op("head.lm").N == 50257
    assert steps[2].graph is g  # cached
    assert w.step_graph(131) is g


def test_gpt_layer_op_sequence():
    g = workloads.gpt("gpt2-small").decode(prompt=0, tokens=1).step_graph(1)
    names = [n for n in g.topo() if n.startswith("L0.")]
    assert names == ["L0.attn.norm", "L0.attn.qkv", "L0.attn.kv_append", "L0.attn.attention", "L0.attn.out",
                     "L0.attn.residual", "L0.mlp.norm", "L0.mlp.fc1", "L0.mlp.act", "L0.mlp.fc2", "L0.mlp.residual"]
    assert g.topo()[:3] == ["embed.tokens", "embed.pos", "embed.add"]
    assert g.topo()[-2:] == ["final.norm", "head.lm"]
    assert [g.op(n).kind for n in names] == ["layernorm", "gemm", "kv_append", "attention", "gemm", "elementwise",
                                             "layernorm", "gemm", "gelu", "gemm", "elementwise"]
    assert g.op("L0.attn.qkv").is_gemv


def test_llama_layer_op_sequence_and_gqa():
    g = workloads.model("llama2-70b").decode(prompt=10, tokens=1).step_graph(11)
    names = [n for n in g.topo() if n.startswith("L0.")]
    assert [g.op(n).kind for n in names] == ["rmsnorm", "gemm", "rope", "kv_append", "attention", "gemm",
                                             "elementwise", "rmsnorm", "gemm", "gemm", "silu", "elementwise", "gemm",
                                             "elementwise"]
    assert g.op("L0.attn.qkv").N == (64 + 2 * 8) * 128
    kv = g.op("L0.attn.kv_append")
    assert isinstance(kv, KVAppend) and kv.heads == 8 and kv.bytes_written() == 2 * 8 * 128 * 2
    assert g.op("L0.attn.attention").n_kv_heads == 8
    assert g.op("L0.attn.rope").pos == 10
    assert "embed.pos" not in g and g.op("L0.mlp.mul").op == "mul"


def test_bitnet_uses_mixed_precision_gemms():
    g = workloads.model("bitnet-b1.58-3b").decode(prompt=0, tokens=1).step_graph(1)
    q = g.op("L0.attn.qkv")
    assert isinstance(q, MpGemm) and (q.weight_format, q.weight_bits, q.act_format) == ("ternary", 2, "int8")
    assert isinstance(g.op("head.lm"), Gemm)  # the LM head is not quantized


def test_prefill():
    w = workloads.model("llama2-7b").prefill(prompt=16, batch=2)
    (s,) = list(w.steps())
    assert (w.phase, w.tokens, s.q_len, s.kv_len) == ("prefill", 0, 16, 16)
    g = s.graph
    assert g.op("L0.attn.qkv").M == 32 and g.op("L0.attn.attention").causal
    assert g.op("head.lm").M == 2  # last position only
    assert workloads.model("llama2-7b").prefill(prompt=16, batch=2, logits="all").step(0).graph.op("head.lm").M == 32
    assert w.totals()["steps"] == 1 and w.totals()["flops"] == g.totals()["flops"]


def test_dtype_override_changes_bytes_not_flops():
    a = workloads.gpt("gpt2-small").decode(prompt=0, tokens=2).totals()
    b = workloads.gpt("gpt2-small", dtype="fp32").decode(prompt=0, tokens=2).totals()
    assert a["flops"] == b["flops"] and b["bytes_written"] == 2 * a["bytes_written"]


@pytest.mark.parametrize("call,message", [
    (lambda m: m.decode(prompt=0, tokens=0), "tokens = 0; expected a positive integer"),
    (lambda m: m.decode(prompt=0, tokens=-3), "tokens = -3; expected a positive integer"),
    (lambda m: m.decode(prompt=-1, tokens=3), "prompt = -1; expected an integer >= 0"),
    (lambda m: m.decode(prompt=0, tokens=2.5), "tokens = 2.5; expected a positive integer"),
    (lambda m: m.decode(prompt=0, tokens=1, batch=0), "batch = 0; expected a positive integer"),
    (lambda m: m.prefill(prompt=0), "prompt = 0; expected a positive integer"),
    (lambda m: m.decode(prompt=128, tokens=1024),
     "prompt + tokens = 1152 exceeds max_context 1024 of model 'gpt2-xl'; expected prompt + tokens <= 1024"),
    (lambda m: m.prefill(prompt=1025),
     "prompt + tokens = 1025 exceeds max_context 1024 of model 'gpt2-xl'; expected prompt + tokens <= 1024"),
    (lambda m: m.prefill(prompt=8, logits="first"), "logits = 'first'; expected one of: last, all"),
    (lambda m: m.decode(prompt=0, tokens=4).step(4), "step index = 4; expected an integer in [0, 3]"),
])
def test_errors(call, message):
    with pytest.raises(WorkloadError) as e:
        call(workloads.gpt("gpt2-xl"))
    assert str(e.value) == message


def test_step_graph_bounds_and_lru():
    w = workloads.gpt("gpt2-small").decode(prompt=0, tokens=100)
    with pytest.raises(WorkloadError, match=re.escape("kv_len = 2000 exceeds max_context 1024 of model 'gpt2-small'")):
        w.step_graph(2000)
    with pytest.raises(WorkloadError, match=re.escape("kv_len = 1 is less than q_len = 2; expected kv_len >= q_len")):
        w.step_graph(1, q_len=2)
    g1 = w.step_graph(1)
    for kv in range(2, Workload.GRAPH_CACHE_SIZE + 2):
        w.step_graph(kv)
    assert w.step_graph(1) is not g1  # evicted
    assert len(w._graphs) == Workload.GRAPH_CACHE_SIZE


def test_large_decode_stays_lazy():
    w = workloads.model("llama2-70b").decode(prompt=0, tokens=4096)
    t0 = time.perf_counter()
    tot = w.totals()
    assert time.perf_counter() - t0 < 1.0
    assert len(w._graphs) == 3 and tot["steps"] == 4096
