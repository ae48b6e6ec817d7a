"""The functional path: attention from the paged flash layout equals dense attention (the workload op's own numpy
reference); SparF's error against dense on random and peaked data; planted layout faults are caught."""

from __future__ import annotations

import numpy as np
import pytest

from archsim.base.errors import MappingError
from archsim.mapper import instinfer_cosim as cs
from archsim.mapper.instinfer import Layout
from archsim.workloads.ops import Attention


def _dense(q, k, v):
    n, d = k.shape
    op = Attention(name="a", heads=1, kv_heads=1, head_dim=d, q_len=1, kv_len=n, batch=1, dtype="fp16")
    return op.reference(q.reshape(1, 1, 1, d).astype(np.float64), k.reshape(1, 1, n, d).astype(np.float64),
                        v.reshape(1, 1, n, d).astype(np.float64)).reshape(d)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 300, 1024])
def test_paged_attention_equals_dense(n):
    rng = np.random.default_rng(n)
    d = 128
    q, k, v = (rng.standard_normal(s).astype(np.float16) for s in (d, (n, d), (n, d)))
    head = cs.pack(k, v)
    assert head.k_pages.shape == (-(-n // 16), 16, d)
    np.testing.assert_allclose(cs.paged_attention(q, head), _dense(q, k, v), rtol=0, atol=1e-5)


def test_layout_page_counts_match_the_packed_arrays():
    rng = np.random.default_rng(1)
    n, d = 700, 128
    k, v = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    head = cs.pack(k, v, channels_per_page=8)
    lay = Layout(4096, d, 8)
    assert head.k_pages.shape[0] + head.v_pages.shape[0] == 2 * lay.token_pages(n)
    assert head.kc_pages.shape[0] * head.kc_pages.shape[1] == lay.channel_pages(n)
    assert lay.pages_stored(n) == 2 * 44 + 16 * 3     # 700 tokens: 44 token pages; 3 rows of 256-token pages
    # the channel-indexed copy holds K exactly
    g, off, t = 5, 3, 517
    assert head.kc_pages[g, t // 256, t % 256, off] == k[t, g * 8 + off]


def test_the_page_kernel_is_pluggable():
    """A kernel with other numerics (here fp16 scores, as a fixed-point core might round) plugs in unchanged;
    its result differs from the fp32 kernel's by rounding only."""
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal(128), rng.standard_normal((100, 128)), rng.standard_normal((100, 128))
    head = cs.pack(k, v)
    calls = []

    def fp16_kernel(q, kp, vp, scale):
        calls.append(kp.shape[0])
        s = (kp.astype(np.float16) @ q.astype(np.float16)).astype(np.float32) * scale
        m = float(s.max())
        e = np.exp(s - m)
        return m, float(e.sum()), (e[:, None] * vp).sum(axis=0)

    out = cs.paged_attention(q, head, kernel=fp16_kernel)
    assert calls == [16] * 6 + [4]                  # one call per page, the last one partial
    np.testing.assert_allclose(out, _dense(q, k, v), atol=2e-2)


def test_negative_control_a_dropped_page_is_caught():
    rng = np.random.default_rng(4)
    q, k, v = rng.standard_normal(128), rng.standard_normal((64, 128)), rng.standard_normal((64, 128))
    head = cs.pack(k, v)
    wrong = cs.paged_attention(q, head, pages=[0, 1, 3])  # page 2 skipped
    assert np.abs(wrong - _dense(q, k, v)).max() > 1e-3


def test_negative_control_swapped_channel_groups_break_sparf():
    rng = np.random.default_rng(5)
    q, k, v = cs.peaked_head(rng, 512, 128)
    head = cs.pack(k, v)
    good = cs.sparf_attention(q, head, 16, 32)
    head.kc_pages[[0, 1]] = head.kc_pages[[1, 0]]      # a mapper that swapped two channel groups
    bad = cs.sparf_attention(q, head, 16, 32)
    assert not np.allclose(good.out, bad.out)


def test_sparf_with_everything_kept_is_dense():
    rng = np.random.default_rng(6)
    q, k, v = rng.standard_normal(128), rng.standard_normal((200, 128)), rng.standard_normal((200, 128))
    head = cs.pack(k, v)
    res = cs.sparf_attention(q, head, 128, 200)
    assert res.alpha == pytest.approx(1.0)
    np.testing.assert_allclose(res.out, _dense(q, k, v), atol=1e-10)


def test_sparf_error_falls_with_the_ratio_and_is_small_on_peaked_attention():
    """Reported figures (asserted loosely): on random data SparF's error is large at 1/8 (no structure to
    exploit); on peaked attention it is small, and the error grows as the ratio shrinks."""
    errs = {(kind, rho): cs.sparf_error_stats(kind, rho, 1024, 128, range(3))["relative_l2_error"]
            for kind in ("random", "peaked") for rho in (1 / 2, 1 / 8)}
    assert errs["peaked", 1 / 8] < 0.05 and errs["random", 1 / 8] > 0.5
    assert errs["random", 1 / 2] < errs["random", 1 / 8]
    assert errs["peaked", 1 / 2] <= errs["peaked", 1 / 8]


def test_sparf_error_stats_reads_each_head_densely_and_sparsely():
    """At rho = 1 (r = d_head, k = kv_len / 2) step 1 reads every channel page and the error is below rho = 1/8's;
    rho = 1/128 keeps one channel: one channel group of the 16."""
    full = cs.sparf_error_stats("random", 1.0, 256, 128, range(2))
    eighth = cs.sparf_error_stats("random", 1 / 8, 256, 128, range(2))
    assert full["channel_pages_read_fraction"] == 1.0
    assert full["relative_l2_error"] < eighth["relative_l2_error"]
    one = cs.sparf_error_stats("random", 1 / 128, 256, 128, range(2))
    assert one["channel_pages_read_fraction"] == 1 / 16


def test_bad_shapes_are_refused():
    with pytest.raises(MappingError, match="d_head"):
        cs.pack(np.zeros((4, 64)), np.zeros((4, 64)))
    head = cs.pack(np.zeros((4, 128)), np.zeros((4, 128)))
    with pytest.raises(MappingError, match="SparF r"):
        cs.sparf_attention(np.ones(128), head, 0, 1)
