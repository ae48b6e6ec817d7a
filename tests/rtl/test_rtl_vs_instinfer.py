"""The RTL attention core's numpy model (rtl/attention_model.py, which the Amaranth design matches bit for bit) run
on InstInfer's flash page layout (mapper/instinfer_cosim.py): streaming the token pages of K and V through the
core page by page gives exactly the state of one stream over the dense cache, and its output agrees with the
InstInfer functional path's paged attention (fp32 page kernel) within the core's stated INT8 tolerance
(2e-2 x max|V|), on random and on peaked score distributions."""

import numpy as np
import pytest

from archsim.mapper.instinfer_cosim import TOKENS_PER_PAGE, pack, paged_attention, peaked_head
from archsim.rtl import attention_model as core


def _quantized_pages(q, k, v):
    qq, sq = core.quantize_symmetric(q)
    kq, sk = core.quantize_symmetric(k)
    vq, sv = core.quantize_symmetric(v)
    head = pack(kq.astype(np.float32), vq.astype(np.float32))     # the drive's page layout, int codes as values
    return qq, kq, vq, sq, sk, sv, head


@pytest.mark.parametrize("kv_len,seed,kind", [(37, 0, "random"), (300, 1, "random"), (513, 2, "peaked")])
def test_core_on_flash_pages_matches_paged_attention(kv_len, seed, kind):
    rng = np.random.default_rng(seed)
    d = 128
    if kind == "peaked":
        q, k, v = peaked_head(rng, kv_len, d)
    else:
        q, k, v = rng.normal(size=d), rng.normal(size=(kv_len, d)), rng.normal(size=(kv_len, d))
    qq, kq, vq, sq, sk, sv, head = _quantized_pages(q, k, v)
    scale, shift = core.scale_register(sq, sk, d)
    state = None
    for p in range(head.k_pages.shape[0]):                       # page by page, as the engine reads flash
        valid = min(TOKENS_PER_PAGE, kv_len - p * TOKENS_PER_PAGE)
        state = core.attention_core(qq, head.k_pages[p, :valid].astype(np.int64),
                                    head.v_pages[p, :valid].astype(np.int64), scale, shift, state)
    stream = core.attention_core(qq, kq, vq, scale, shift)
    assert (state.mx, state.l) == (stream.mx, stream.l) and np.array_equal(state.o, stream.o)
    fixed = core.attention_output(state, sv)
    paged = paged_attention(np.asarray(q, np.float32), pack(np.asarray(k, np.float32), np.asarray(v, np.float32)))
    assert np.max(np.abs(fixed - paged)) <= 2e-2 * np.max(np.abs(v))


def test_a_dropped_page_is_caught():
    """Negative control: skipping one page in the core's stream breaks the agreement with the paged path."""
    rng = np.random.default_rng(5)
    d, n = 128, 160
    q, k, v = rng.normal(size=d), rng.normal(size=(n, d)) * 2, rng.normal(size=(n, d))
    qq, kq, vq, sq, sk, sv, head = _quantized_pages(q, k, v)
    scale, shift = core.scale_register(sq, sk, d)
    state = None
    for p in range(head.k_pages.shape[0]):
        if p == 3:
            continue
        state = core.attention_core(qq, head.k_pages[p].astype(np.int64), head.v_pages[p].astype(np.int64),
                                    scale, shift, state)
    paged = paged_attention(np.asarray(q, np.float32), pack(np.asarray(k, np.float32), np.asarray(v, np.float32)))
    assert np.max(np.abs(core.attention_output(state, sv) - paged)) > 2e-2 * np.max(np.abs(v))
