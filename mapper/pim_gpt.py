"""Lowering of GPT token generation onto PIM-GPT: bank-level PIM for every matrix-vector product, the ASIC
for everything else.

Per generated token (PIM-GPT processes the prompt token by token too, so prefill is the same loop), per layer:

====  ======  =========================================================================================
step  engine  work
====  ======  =========================================================================================
1     asic    LayerNorm of the residual stream
2     pim     QKV projection: per K-tile, WR_GB of the input slice, then MAC_ABK + RD_MAC per output
3     asic    add the K-tiles' partial sums, add the bias
4     pim     append this token's K (row-major) and V (column-major) to the reserved KV space; WR_GB q;
              scores = K q per head (MAC_ABK over d_head, RD_MAC)
5     asic    softmax per head (Taylor exp, Newton-Raphson reciprocal)
6     pim     context = V^T p per head (WR_GB of the head's probabilities, one row of V^T per output)
7     asic    add partial sums over position tiles
8     pim     output projection
9     asic    partial sums, bias, residual add, LayerNorm
10    pim     FC1
11    asic    partial sums, bias, GELU
12    pim     FC2
13    asic    partial sums, bias, residual add
====  ======  =========================================================================================

then the final LayerNorm, the LM head on PIM and the partial sums and argmax on the ASIC. Every channel gets
the same instruction stream (the layout pads outputs and heads), every PIM step ends with a SYNC (the ASIC
needs all results), and the steps depend on each other in order. The DRAM controller adds ACT/PRE, mode
changes and refresh; the instructions say only what the mapping decides.

Weight VMM programs are built once per matrix and reused by every token (and run as ``recurring`` programs, so
burst mode memoizes each run whole); a repeated row pattern is emitted as one
:class:`~archsim.cyclesim.dram.program.DramRepeat` when the DRAM model offers it.
"""

from __future__ import annotations

from functools import lru_cache, partial

from archsim.base.errors import MappingError
from archsim.cyclesim.dram.program import MEMO, DramBlock, SYNC, mac_abk, rd_mac, rd_sbk, wr_gb, wr_sbk
from archsim.cyclesim.program import Block, Command, Program
from archsim.mapper import lowering
from archsim.mapper.guard import BYTES_PER_COMMAND, POINTER_BYTES, Estimate, default_estimate, estimator
from archsim.mapper.pim_gpt_layout import Layout, ceil_div, plan

try:  # the closed-form repeat of the DRAM model (burst mode); expanded into blocks otherwise
    from archsim.cyclesim.dram.program import DramRepeat
except ImportError:  # pragma: no cover - depends on the DRAM model version
    DramRepeat = None


def _segments(start_access: int, outputs: int, accesses: int, row_accesses: int, heads: int = 1,
              only: int | None = None):
    """Instructions for ``outputs`` back-to-back output segments of ``accesses`` columns each (``heads``
    sub-segments read out separately; ``only``: just that sub-segment), starting at access ``start_access`` of
    row 0 (relative rows)."""
    instrs = []
    sub = accesses // heads
    for o in range(outputs):
        for h in (range(heads) if only is None else (only,)):
            a = start_access + o * accesses + h * sub
            instrs.append(mac_abk(a // row_accesses, a % row_accesses, sub))
            instrs.append(rd_mac())
    return instrs


def _emit_pattern(items: list, *, row_base: int, total: int, per_output: int, row_accesses: int,
                  heads: int = 1, only: int | None = None) -> None:
    """``total`` outputs of ``per_output`` columns packed from ``row_base``: one repeated period + a tail."""
    from math import gcd

    g = gcd(per_output, row_accesses)
    period_outputs, period_rows = row_accesses // g, per_output // g
    full, tail = divmod(total, period_outputs)
    if full:
        tile = _tile(period_outputs, per_output, row_accesses, heads, only)
        if DramRepeat is not None and full > 1:
            items.append(DramRepeat(tile, full, row_base, period_rows))
        else:
            items.extend(tile.at(row_base + i * period_rows) for i in range(full))
    if tail:
        items.append(_tile(tail, per_output, row_accesses, heads, only).at(row_base + full * period_rows))


@lru_cache(maxsize=4096)
def _tile(outputs: int, per_output: int, row_accesses: int, heads: int, only: int | None = None) -> DramBlock:
    return DramBlock(_segments(0, outputs, per_output, row_accesses, heads, only), row_base=0)


@lru_cache(maxsize=1024)
def _context_tile(accesses: int, col: int) -> DramBlock:
    """One output over ``accesses`` columns from column ``col`` of relative row 0 (may continue on row 1)."""
    return DramBlock([mac_abk(0, col, accesses), rd_mac()], row_base=0)


@lru_cache(maxsize=1024)
def _v_append_tile(banks: int, col: int) -> DramBlock:
    """One value written into the same (relative) row of each of ``banks`` banks."""
    return DramBlock([wr_sbk(b, 0, col, 1) for b in range(banks)], row_base=0)


def _position_commands(steps: list, position: int) -> list[Command]:
    """A block's commands at ``position``: the chain's templates, position-dependent work filled in."""
    kv = position + 1
    cmds = []
    for step in steps:
        if type(step) is not Command:
            engine, op, lab, deps, make = step
            step = Command(engine, op, make(position, kv), deps, lab)
        cmds.append(step)
    return cmds


class _LazyProgramWork(dict):
    """The work of a position-dependent DRAM command: ``{"recurring": ..., "program": ...}`` with the program built
    on first use, so a block the simulator reuses (:meth:`PimGptMapper.token_blocks`) never builds it."""

    __slots__ = ("_build",)

    def __init__(self, build, recurring: bool):
        super().__init__(recurring=recurring)
        self._build = build

    def __missing__(self, key):
        if key != "program" or self._build is None:
            raise KeyError(key)
        program = self["program"] = self._build()
        self._build = None
        return program


class PimGptMapper:
    """Builds the per-token command chain for one (model, spec) pair."""

    def __init__(self, config, spec, max_positions: int, progress=None):
        self.config = config
        self.progress = progress  # progress(done, total, what) while the per-token chain is built
        self.spec = spec
        self.layout: Layout = plan(config, spec, max_positions)
        self.geo = self.layout.geometry
        self._vmm_cache: dict[str, list] = {}
        self._programs: dict[tuple, list] = {}  # attention programs shared by the positions of a group
        self._chain: list | None = None
        self._segments: list | None = None

    # -- DRAM programs --------------------------------------------------------------------------------------
    def _broadcast(self, items: list) -> list[list]:
        return [items] * self.geo.channels

    def vmm(self, name: str) -> list[list]:
        """Per-channel instruction lists of one weight matrix-vector product (cached: weights do not move)."""
        got = self._vmm_cache.get(name)
        if got is None:
            m = self.layout.matrices[name]
            items: list = []
            for t in m.tiles:
                items.append(wr_gb(t.accesses))
                _emit_pattern(items, row_base=t.row_base, total=m.slots, per_output=t.accesses,
                              row_accesses=self.geo.row_accesses)
            items.append(SYNC)
            got = self._vmm_cache[name] = self._broadcast(items)
        return got

    def attention_scores(self, layer: int, position: int) -> list[list]:
        """Append K and V of ``position`` and compute the scores of all ``position + 1`` cached keys."""
        geo, kc = self.geo, self.layout.kcache[layer]
        ra = geo.row_accesses
        items: list = []
        # K append: one segment (the channel's heads) in bank position % B, row-major
        bank, slot = position % geo.banks, position // geo.banks
        a = slot * kc.seg_accesses
        items.append(wr_sbk(bank, kc.row_base + a // ra, a % ra, kc.seg_accesses))
        # V append: one value in each of the channel's head-dimension rows (column-major)
        items.extend(self._v_append(layer, position))
        # the score loop is the same for the 16 positions of a group (up to the layer's rows): memoized on its
        # own (a hint; it changes no cycle)
        items.append(MEMO)
        items.extend(self._score_loop(layer, ceil_div(position + 1, geo.banks)))
        return self._broadcast(items)

    def _cached(self, key: tuple, build) -> list:
        """``build()``, kept for the next positions of the group (at most 4,096 programs kept)."""
        got = self._programs.get(key)
        if got is None:
            if len(self._programs) >= 4096:
                self._programs.clear()
            got = self._programs[key] = build()
        return got

    def _score_loop(self, layer: int, outputs: int) -> list:
        """The scores, head by head, over ``outputs`` cached-key segments per bank, and the SYNC: the head's q
        slice into the GB (a MAC column meets the GB column of the same index within its op, so every head
        needs its own q at GB column 0), then per cached position one MAC_ABK over the head's part of the key
        segment + RD_MAC."""
        def build():
            geo, kc = self.geo, self.layout.kcache[layer]
            items: list = []
            sub = kc.seg_accesses // kc.heads_per_channel
            for h in range(kc.heads_per_channel):
                items.append(wr_gb(sub))
                _emit_pattern(items, row_base=kc.row_base, total=outputs, per_output=kc.seg_accesses,
                              row_accesses=geo.row_accesses, heads=kc.heads_per_channel, only=h)
            items.append(SYNC)
            return items
        return self._cached(("scores", layer, outputs), build)

    def _v_append(self, layer: int, position: int) -> list:
        """One value in each of the channel's head-dimension rows of V^T (column-major): a write per row, dim
        ``i`` in bank ``i % B`` at row ``(i // B) * rows_per_dim``. So B dims at a time form one tile (a write in
        each bank, same row) repeated every ``rows_per_dim`` rows: a closed-form repeat in burst mode, whose
        instances are short enough that a refresh falling into one costs little to simulate."""
        geo, vc = self.geo, self.layout.vcache[layer]
        col = (position % geo.row_elems) // geo.access_elems
        base = vc.row_base + position // geo.row_elems
        dims = self.layout.kcache[layer].heads_per_channel * self.config.d_head
        full, tail = divmod(dims, geo.banks)
        tile = _v_append_tile(geo.banks, col)
        items: list = []
        if DramRepeat is not None and full > 1:
            items.append(DramRepeat(tile, full, base, vc.rows_per_dim))
        else:
            items.extend(tile.at(base + i * vc.rows_per_dim) for i in range(full))
        if tail:
            items.append(_v_append_tile(tail, col).at(base + full * vc.rows_per_dim))
        return items

    def attention_context(self, layer: int, kv: int) -> list[list]:
        """context = V^T p for each of the channel's heads: WR_GB the probabilities, one V^T row per output.

        The program depends on ``kv`` only through ``q = ceil(kv / access_elems)`` (``ceil(kv / gb_elems)`` GB
        tiles, the last one ``q - t * gb_elems / access_elems`` columns wide; ``gb_elems`` is a multiple of
        ``access_elems``), so it is built for ``kv = q * access_elems`` and shared by the group."""
        q = ceil_div(kv, self.geo.access_elems)
        return self._broadcast(self._cached(("context", layer, q),
                                            partial(self._context_items, layer, q * self.geo.access_elems)))

    def _context_items(self, layer: int, kv: int) -> list:
        geo, vc = self.geo, self.layout.vcache[layer]
        dh = self.config.d_head
        items: list = [MEMO]      # the same for the 16 positions of a group: memoized as one unit (a hint)
        for h in range(vc.heads_per_channel):
            for t in range(ceil_div(kv, geo.gb_elems)):
                k = min(geo.gb_elems, kv - t * geo.gb_elems)
                acc = ceil_div(k, geo.access_elems)
                items.append(wr_gb(acc))
                # the head's dims sit at indices h*dh .. h*dh+dh-1 of the channel's dims, dim i in bank i % B
                first = h * dh // geo.banks
                last = ceil_div((h + 1) * dh, geo.banks)
                # positions t*gb .. of a dim sit from access t*gb/access_elems of the dim's V^T rows
                start = t * geo.gb_elems // geo.access_elems
                tile = _context_tile(acc, start % geo.row_accesses)  # one output: MAC_ABK over the tile, RD_MAC
                base = vc.row_base + first * vc.rows_per_dim + start // geo.row_accesses
                if DramRepeat is not None and last - first > 1:
                    items.append(DramRepeat(tile, last - first, base, vc.rows_per_dim))
                else:
                    items.extend(tile.at(base + i * vc.rows_per_dim) for i in range(last - first))
        items.append(SYNC)
        return items

    def embedding_read(self) -> list[list]:
        """The token and position embedding rows: d_model values each, read from one bank of channel 0."""
        geo = self.geo
        n = ceil_div(self.config.d_model, geo.access_elems)
        items = []
        for table_row in (0, 1):  # token table row, position table row
            left, row = n, self.layout.rows_used - 1 - table_row * ceil_div(n, geo.row_accesses)
            while left > 0:
                k = min(left, geo.row_accesses)
                items.append(rd_sbk(0, row, 0, k))
                left -= k
                row -= 1
        lists = [list(items) + [SYNC]] + [[SYNC] for _ in range(geo.channels - 1)]
        return lists

    # -- the token loop -------------------------------------------------------------------------------------
    def token_block(self, index: int, position: int) -> Block:
        """All commands of one token at ``position`` (its KV goes to that slot), chained in order."""
        kv = position + 1
        cmds = []
        for step in self._steps():
            if type(step) is not Command:
                engine, op, label, deps, make = step
                step = Command(engine, op, make(position, kv), deps, label)
            cmds.append(step)
        return Block(cmds, None, f"token{index}")

    def token_blocks(self, position: int) -> list[Block]:
        """The token at ``position`` as consecutive blocks: the same chain as :meth:`token_block`, cut where a
        barrier changes no timing (after a chain's command the next one waits for it anyway).

        * the embedding and layer 0's QKV projection: keyed without the position (the embedding reads channel 0
          only, so the block ends the channels' symmetry; the DRAM then records every channel's effect);
        * per layer ``L``, the attention (scores, softmax, context, partial sums): keyed by the position (its
          DRAM programs carry MEMO hints: the score loop and the context recur for 16 positions);
        * per layer ``L``, the rest of layer ``L`` and the QKV projection of layer ``L + 1`` (or, after the last
          layer, the final norm and the LM head): keyed without the position, which they do not depend on.

        ``offsets["pim"]`` is layer ``L``'s first row: layer ``L``'s programs are layer 0's with every row moved by
        it (every layer has the same rows in the same order), so blocks of equal key issue the same commands up to
        that translation and the simulator may reuse one's effect for another that starts from an equal DRAM state
        (:mod:`archsim.cyclesim.dram.segmemo`)."""
        blocks = []
        for key, offsets, label, steps in self._token_segments():
            if type(steps) is Block:        # position-free: one block object serves every token
                blocks.append(steps)
            else:                           # built only if simulated (a reused block never needs its commands)
                blocks.append(Block([], (key[0], position), f"{label}@{position}", offsets,
                                    make=partial(_position_commands, steps, position), size=len(steps)))
        return blocks

    def _token_segments(self) -> list:
        """``(key, offsets, label, steps)`` per block of :meth:`token_blocks` (``key[1]``: keyed by the position),
        the chain's steps re-based so that each block's first step depends on nothing (built once)."""
        if self._segments is not None:
            return self._segments
        chain = self._steps()
        L = self.config.n_layers
        head = 2                                # embedding read + add
        pre, att = 4, 4                         # ln1, qkv, reduce, bias | scores, softmax, context, reduce
        first = {"pim": self.layout.matrices["L0.qkv"].tiles[0].row_base}
        cuts = [(0, head + pre, ("pim_gpt.embedding_and_first_qkv", False), first, "embedding+L0.qkv")]
        for layer in range(L):
            lo = head + layer * CHAIN_PER_LAYER + pre
            anchor = {"pim": self.layout.matrices[f"L{layer}.qkv"].tiles[0].row_base}
            cuts.append((lo, lo + att, ("pim_gpt.attention", True), anchor, f"L{layer}.attention"))
            if layer + 1 < L:
                cuts.append((lo + att, lo + CHAIN_PER_LAYER, ("pim_gpt.between_layers", False), anchor,
                             f"L{layer}.rest+L{layer + 1}.qkv"))
            else:
                cuts.append((lo + att, len(chain), ("pim_gpt.last_layer_and_head", False), anchor,
                             f"L{layer}.rest+head"))
        segments = []
        for lo, hi, key, offsets, label in cuts:
            steps = []
            for j, step in enumerate(chain[lo:hi]):
                deps = (j - 1,) if j else ()
                if type(step) is Command:
                    steps.append(Command(step.engine, step.op, step.work, deps, step.label))
                else:
                    steps.append(step[:3] + (deps,) + step[4:])
            if key is None or not key[1]:                   # nothing in it depends on the position
                if not all(type(st) is Command for st in steps):   # pragma: no cover - a chain edit would break it
                    raise AssertionError(f"segment {label} is keyed without the position but has "
                                         f"position-dependent steps")
                steps = Block(steps, key, label, offsets)
            segments.append((key, offsets, label, steps))
        self._segments = segments
        return segments

    def _steps(self) -> list:
        """The per-token chain, built once: a :class:`Command` where nothing depends on the position (shared by
        every token's block; commands are plain data the simulator only reads), else ``(engine, op, label,
        deps, make)`` with ``make(position, kv)`` giving the work."""
        if self._chain is not None:
            return self._chain
        c, geo = self.config, self.geo
        d, H, dff = c.d_model, c.n_heads, c.d_ff
        steps: list = []

        def add(engine, op, label, work):
            deps = (len(steps) - 1,) if steps else ()
            steps.append((engine, op, label, deps, work) if callable(work) else
                         Command(engine, op, work, deps, label))

        def pim(program, label, recurring=False):
            if callable(program):
                add("pim", "dram", label,
                    lambda pos, kv: _LazyProgramWork(lambda: program(pos, kv), recurring))
            else:
                add("pim", "dram", label, {"program": program, "recurring": recurring})

        def asic(op, label, **work):
            add("asic", op, label, work)

        def parts(name):
            return len(self.layout.matrices[name].tiles)

        pim(self.embedding_read(), "embedding")
        asic("add", "embed.add", n=d)
        for L in range(c.n_layers):
            if self.progress is not None:
                self.progress(L, c.n_layers, "mapping layers")
            asic("layernorm", f"L{L}.ln1", n=d)
            pim(self.vmm(f"L{L}.qkv"), f"L{L}.qkv", recurring=True)
            asic("reduce", f"L{L}.qkv.reduce", n=3 * d, parts=parts(f"L{L}.qkv"))
            asic("add", f"L{L}.qkv.bias", n=3 * d)
            pim(lambda pos, kv, L=L: self.attention_scores(L, pos), f"L{L}.scores")
            add("asic", "softmax", f"L{L}.softmax", lambda pos, kv: {"n": kv, "rows": H})
            pim(lambda pos, kv, L=L: self.attention_context(L, kv), f"L{L}.context")
            add("asic", "reduce", f"L{L}.context.reduce",
                lambda pos, kv: {"n": d, "parts": ceil_div(kv, geo.gb_elems)})
            pim(self.vmm(f"L{L}.proj"), f"L{L}.proj", recurring=True)
            asic("reduce", f"L{L}.proj.reduce", n=d, parts=parts(f"L{L}.proj"))
            asic("add", f"L{L}.proj.bias_residual", n=d, rows=2)
            asic("layernorm", f"L{L}.ln2", n=d)
            pim(self.vmm(f"L{L}.fc1"), f"L{L}.fc1", recurring=True)
            asic("reduce", f"L{L}.fc1.reduce", n=dff, parts=parts(f"L{L}.fc1"))
            asic("add", f"L{L}.fc1.bias", n=dff)
            asic("gelu", f"L{L}.gelu", n=dff)
            pim(self.vmm(f"L{L}.fc2"), f"L{L}.fc2", recurring=True)
            asic("reduce", f"L{L}.fc2.reduce", n=d, parts=parts(f"L{L}.fc2"))
            asic("add", f"L{L}.fc2.bias_residual", n=d, rows=2)
        asic("layernorm", "ln_f", n=d)
        pim(self.vmm("lm_head"), "lm_head", recurring=True)
        asic("reduce", "lm_head.reduce", n=c.vocab, parts=parts("lm_head"))
        asic("add", "argmax", n=c.vocab)
        if self.progress is not None:
            self.progress(c.n_layers, c.n_layers, "mapping layers")
        self._chain = steps
        return steps


@lowering("pim_gpt")
def lower_pim_gpt(workload, spec, *, include_prompt: bool = False, reserve_positions: int | None = None,
                  progress=None, **_options) -> Program:
    """GPT decode on PIM-GPT. The prompt's KV space is reserved; ``include_prompt=True`` also simulates the
    prompt token by token (PIM-GPT's prefill), otherwise only the generated tokens are simulated.
    ``reserve_positions`` reserves KV space for more tokens than this workload has (to simulate one token of a
    longer generation with the longer generation's layout)."""
    if workload.batch != 1:
        raise MappingError(f"PIM-GPT generates one sequence at a time; got batch {workload.batch}", key="batch")
    config = workload.model
    max_positions = max(workload.prompt + workload.tokens, reserve_positions or 0)
    mapper = PimGptMapper(config, spec, max_positions, progress)
    comps = {c.impl: c.path for c in spec.walk()}
    if "GDDR6_AiM" not in comps or "PimAsic" not in comps:
        raise MappingError("the pim_gpt family needs a GDDR6_AiM component and a PimAsic component",
                           file=spec.file, key="components")
    todo = _positions(workload, include_prompt)

    def blocks():
        for pos in todo:
            yield from mapper.token_blocks(pos)

    lay = mapper.layout
    return Program(engines={"pim": comps["GDDR6_AiM"], "asic": comps["PimAsic"]}, blocks=blocks(),
                   meta={"reference_clock": "pim", "blocks": len(todo) * len(mapper._token_segments()),
                         "report": {"tokens": len(todo), "dram_rows_used_per_bank": lay.rows_used,
                                    "dram_bytes_used": lay.bytes_used}})


def _positions(workload, include_prompt: bool) -> range:
    """The token positions simulated (a token's index is its position)."""
    if workload.phase == "decode":
        return range(0 if include_prompt else workload.prompt, workload.prompt + workload.tokens)
    return range(workload.prompt)


#: commands of the per-token chain: embedding read + add, 19 per layer, final norm, LM head, reduce, argmax
CHAIN_FIXED, CHAIN_PER_LAYER = 6, 19
#: per channel, besides the pointer arrays counted below: the controller, engine and state objects and their
#: small lists (measured ~1.7 KB beyond the arrays on GDDR6-AiM, rounded up)
CHANNEL_OVERHEAD_BYTES = 2048
#: the embedding read gives every channel but the first its own one-SYNC list
SYNC_LIST_BYTES = 64


@estimator("pim_gpt")
def estimate_pim_gpt(workload, spec, *, include_prompt: bool = False, **_options) -> Estimate:
    """State: per channel, the DRAM model's timing/counter arrays (one pointer per rule slot, per command x
    (banks + 1) counter, per bank) plus one pointer in every per-channel instruction list alive (the weight
    VMMs, one token's attention programs, the embedding read); work: one command per step of every token."""
    comps = {c.impl: c.path for c in spec.walk()}
    if "GDDR6_AiM" not in comps:
        return default_estimate(workload, spec)  # the lowering refuses it with its own message
    from archsim.cyclesim.dram.channel import CompiledRules
    from archsim.cyclesim.dram.config import DramConfig

    cfg = DramConfig.from_spec(spec, comps["GDDR6_AiM"])
    rules = CompiledRules(cfg)
    n_cmd = len(rules.names)
    L = workload.model.n_layers
    arrays = rules.size + n_cmd * (rules.banks + 1) + 2 * rules.banks + n_cmd
    lists = (4 * L + 1) + 2 * L + 1
    per_channel = POINTER_BYTES * (arrays + lists) + CHANNEL_OVERHEAD_BYTES + SYNC_LIST_BYTES
    chain = CHAIN_FIXED + CHAIN_PER_LAYER * L
    tokens = len(_positions(workload, include_prompt))
    channels_bytes = cfg.channels * per_channel
    memory = channels_bytes + 2 * chain * BYTES_PER_COMMAND
    key = f"components.{comps['GDDR6_AiM']}.channels"
    return Estimate(memory_bytes=memory, commands=tokens * chain, memory_key=key, memory_file=spec.file,
                    commands_key="tokens" if workload.phase == "decode" else "prompt",
                    detail=f"{cfg.channels:,} channels x {per_channel:,} bytes; {tokens:,} tokens x {chain:,} "
                           f"commands")
