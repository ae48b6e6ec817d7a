"""InstInfer's functional path: the KV cache in the flash page layout, attention computed page by page, SparF.

:func:`pack` lays one head's K and V out exactly as :class:`archsim.mapper.instinfer.Layout` counts them: token
pages of 16 tokens x ``d_head`` (K and V), and channel pages of ``pack`` channels x ``values / pack`` tokens (K).
:func:`paged_attention` runs decode attention over the token pages the way the drive's engine does: a
*page kernel* turns one page of K and V into a partial result ``(m, l, acc)`` (the page's maximum score, the sum
of ``exp(score - m)`` and the ``exp``-weighted sum of V rows) and the partials are merged across pages
(log-sum-exp), so the result equals dense attention up to float rounding. The kernel is an argument: a
fixed-point model of an RTL attention core can be dropped in and compared against :func:`page_kernel_fp32`.

:func:`sparf_attention` is SparF (the flash-adapted SparQ) on the same pages: the top-``r`` channels of ``|q|``
read from the channel pages, approximate scores, the top-``k`` tokens read from the token pages, and
``alpha`` times their attention plus ``(1 - alpha)`` times the mean of V. It also counts the pages each step had
to read, which is what the timing model's ``sparf_locality`` stands for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from archsim.base.errors import MappingError

TOKENS_PER_PAGE = 16
PageKernel = Callable[[np.ndarray, np.ndarray, np.ndarray, float], tuple[float, float, np.ndarray]]


@dataclass
class PagedHead:
    """One (sequence, head)'s cache on flash: token pages of K and V, channel pages of K, and its length."""

    k_pages: np.ndarray    # (n_token_pages, 16, d)
    v_pages: np.ndarray    # (n_token_pages, 16, d)
    kc_pages: np.ndarray   # (channel_groups, n_rows, tokens_per_channel_page, pack)
    kv_len: int

    @property
    def d_head(self) -> int:
        return self.k_pages.shape[2]


def pack(k: np.ndarray, v: np.ndarray, *, page_values: int = 2048, channels_per_page: int = 8) -> PagedHead:
    """Lay out K, V (each ``(kv_len, d_head)``) in the token- and channel-indexed page format, zero-padded."""
    if k.shape != v.shape or k.ndim != 2:
        raise MappingError(f"K {k.shape} and V {v.shape}; expected two (kv_len, d_head) arrays", key="kv")
    n, d = k.shape
    if page_values != TOKENS_PER_PAGE * d or page_values % channels_per_page or d % channels_per_page:
        raise MappingError(f"a {page_values}-value page, d_head {d}, {channels_per_page} channels per page: "
                           f"expected 16 x d_head values and channels dividing both", key="layout")
    n_tok = -(-n // TOKENS_PER_PAGE)
    pad = np.zeros((n_tok * TOKENS_PER_PAGE - n, d), dtype=k.dtype)
    kp = np.concatenate([k, pad]).reshape(n_tok, TOKENS_PER_PAGE, d)
    vp = np.concatenate([v, pad]).reshape(n_tok, TOKENS_PER_PAGE, d)
    tpc = page_values // channels_per_page
    rows = -(-n // tpc)
    kc = np.zeros((d // channels_per_page, rows, tpc, channels_per_page), dtype=k.dtype)
    padded = np.concatenate([k, np.zeros((rows * tpc - n, d), dtype=k.dtype)])
    for g in range(d // channels_per_page):
        kc[g] = padded[:, g * channels_per_page:(g + 1) * channels_per_page].reshape(rows, tpc, channels_per_page)
    return PagedHead(kp, vp, kc, n)


def page_kernel_fp32(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: float) -> tuple[float, float, np.ndarray]:
    """The reference page kernel (fp32 math): partial softmax statistics and weighted V of one page's valid rows."""
    s = (k.astype(np.float32) @ q.astype(np.float32)) * np.float32(scale)
    m = float(s.max())
    e = np.exp(s - np.float32(m))
    return m, float(e.sum(dtype=np.float32)), (e[:, None] * v.astype(np.float32)).sum(axis=0)


def merge(parts) -> np.ndarray:
    """Combine per-page partials ``(m, l, acc)`` into the softmax-weighted output (log-sum-exp merge)."""
    parts = list(parts)
    if not parts:
        raise MappingError("attention over an empty cache", key="kv_len")
    m = max(p[0] for p in parts)
    l_tot = sum(p[1] * math.exp(p[0] - m) for p in parts)
    acc = sum(p[2].astype(np.float64) * math.exp(p[0] - m) for p in parts)
    return acc / l_tot


def paged_attention(q: np.ndarray, head: PagedHead, *, kernel: PageKernel = page_kernel_fp32,
                    pages: list[int] | None = None) -> np.ndarray:
    """Decode attention of one query ``q`` (``d_head``,) over ``head``'s token pages (all, or the listed ones)."""
    d = head.d_head
    scale = 1.0 / math.sqrt(d)
    idx = range(head.k_pages.shape[0]) if pages is None else pages
    parts = []
    for p in idx:
        valid = min(TOKENS_PER_PAGE, head.kv_len - p * TOKENS_PER_PAGE)
        parts.append(kernel(q, head.k_pages[p, :valid], head.v_pages[p, :valid], scale))
    return merge(parts)


@dataclass(frozen=True)
class SparFResult:
    out: np.ndarray
    channel_pages_read: int     # step 1: channel pages holding a selected channel
    channel_pages_total: int
    token_pages_read: int       # step 2: token pages (of K, and the same of V) holding a selected token
    token_pages_total: int
    alpha: float


def sparf_attention(q: np.ndarray, head: PagedHead, r: int, k: int) -> SparFResult:
    """SparF on the paged layout (float64 math). ``r`` channels, ``k`` tokens."""
    d, n = head.d_head, head.kv_len
    if not 1 <= r <= d or not 1 <= k <= n:
        raise MappingError(f"SparF r = {r}, k = {k}; expected 1 <= r <= d_head ({d}) and 1 <= k <= kv_len ({n})",
                           key="sparf")
    q = q.astype(np.float64)
    groups, rows, tpc, cpp = head.kc_pages.shape
    # 1. top-r channels of |q| (ties broken by index: deterministic)
    chans = np.sort(np.argsort(-np.abs(q), kind="stable")[:r])
    # 2. K[:, chans] from the channel pages: one page column per group holding a selected channel
    used_groups = sorted({int(c) // cpp for c in chans})
    k_sel = np.empty((n, r))
    for j, c in enumerate(chans):
        g, off = int(c) // cpp, int(c) % cpp
        k_sel[:, j] = head.kc_pages[g, :, :, off].reshape(-1)[:n]
    # 3. approximate scores, temperature-corrected by the share of |q| kept
    scale = math.sqrt(d * np.abs(q[chans]).sum() / np.abs(q).sum())
    s_hat = k_sel @ q[chans] / scale
    s_hat = np.exp(s_hat - s_hat.max())
    s_hat /= s_hat.sum()
    # 4. top-k tokens and their share
    top = np.sort(np.argsort(-s_hat, kind="stable")[:k])
    alpha = float(s_hat[top].sum())
    # 5. K[top, :], V[top, :] from the token pages holding them
    tok_pages = sorted({int(t) // TOKENS_PER_PAGE for t in top})
    kt = head.k_pages.reshape(-1, d)[top].astype(np.float64)
    vt = head.v_pages.reshape(-1, d)[top].astype(np.float64)
    s = kt @ q / math.sqrt(d)
    w = np.exp(s - s.max())
    w /= w.sum()
    v_mean = head.v_pages.reshape(-1, d)[:n].astype(np.float64).mean(axis=0)
    out = alpha * (w @ vt) + (1 - alpha) * v_mean
    return SparFResult(out, len(used_groups) * rows, groups * rows, len(tok_pages), head.k_pages.shape[0], alpha)


def peaked_head(rng: np.random.Generator, kv_len: int, d_head: int, *, sinks: int = 4, heavy: int = 8,
                recent: int = 32, boost: float = 1.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A query and K, V with a realistic peaked score distribution: attention sinks (the first tokens), a recent
    window and a few scattered heavy hitters get keys aligned with the query (``boost``: with the default 1.5
    the 128 largest of 2,048 weights carry about 97% of the mass), and the query's magnitude sits in a few
    outlier channels (as in trained LLMs, which is what SparF's top-r step exploits)."""
    q = rng.standard_normal(d_head)
    outliers = rng.choice(d_head, size=max(1, d_head // 16), replace=False)
    q[outliers] *= 6.0
    k = rng.standard_normal((kv_len, d_head))
    v = rng.standard_normal((kv_len, d_head))
    special = set(range(min(sinks, kv_len))) | set(range(max(0, kv_len - recent), kv_len))
    special |= set(rng.choice(kv_len, size=min(heavy, kv_len), replace=False).tolist())
    qn = q / np.linalg.norm(q)
    for t in special:
        k[t] += boost * qn * math.sqrt(d_head) / 4
    return q, k, v


def relative_error(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(approx - exact) / np.linalg.norm(exact))


def sparf_error_stats(data: str, rho: float, kv_len: int, d_head: int = 128, seeds=range(4)) -> dict[str, float]:
    """SparF at compression ``rho`` (r = rho d_head, k = rho kv_len / 2) against paged dense attention, averaged
    over seeded heads of ``data`` ``"random"`` (standard normal q, K, V) or ``"peaked"`` (:func:`peaked_head`):
    relative L2 error and the shares of channel and token pages read."""
    if data not in ("random", "peaked"):
        raise MappingError(f"data = {data!r}; expected 'random' or 'peaked'", key="data")
    err, cp, tp = [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        if data == "peaked":
            q, k, v = peaked_head(rng, kv_len, d_head)
        else:
            q, k, v = rng.standard_normal(d_head), rng.standard_normal((kv_len, d_head)), rng.standard_normal(
                (kv_len, d_head))
        head = pack(k, v, page_values=TOKENS_PER_PAGE * d_head)
        res = sparf_attention(q, head, max(1, round(rho * d_head)), max(1, round(rho * kv_len / 2)))
        err.append(relative_error(res.out, paged_attention(q, head)))
        cp.append(res.channel_pages_read / res.channel_pages_total)
        tp.append(res.token_pages_read / res.token_pages_total)
    return {"relative_l2_error": float(np.mean(err)), "channel_pages_read_fraction": float(np.mean(cp)),
            "token_pages_read_fraction": float(np.mean(tp))}
