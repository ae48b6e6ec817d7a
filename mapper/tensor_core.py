"""Lowering onto tensor-core GPUs modelled at the tile level (family ``tensor_core_gpu``): the LUT Tensor Core
and its MAC baselines.

Every workload op becomes one or more kernels on the ``gpu`` engine, in program order (one CUDA stream):

* **mpGEMM on LUT arrays** (``MpGemm``, 1-4-bit weights): a tiled ``lut_gemm`` kernel whose thread-block and
  warp tiles of ``lmma`` instructions come from the bounded tiling search (:mod:`archsim.mapper.tensor_core_search`).
  Its A operand is the precomputed tables. The table precompute (``precompute=``):

  - ``fused`` (default, the paper's compiler): folded into the preceding element-wise kernel (the norm, the
    SwiGLU product): that kernel computes the 8-entry tables and row sums and writes the tables instead of the
    activations when every consumer is a LUT GEMM; a producer that is not element-wise (attention) gets its
    own precompute kernel;
  - ``kernel``: always its own kernel (reads the activations, writes the tables);
  - ``inline``: inside the GEMM, every thread block builds the tables of its rows from the activations on the
    CUDA cores (recomputed for every block along N);
  - ``none``: tables cost nothing (not physical; the reference for measuring the precompute overhead).

  Tables built from one activation tensor serve every GEMM that reads it (gate and up share them).
* **GEMMs on a MAC tensor core**: ``mac_gemm``; low-bit weights are dequantized in the kernel (CUDA cores) to
  the tensor core's format; activations arrive in that format (their quantization is fused into the producer).
* **dense FP16 GEMMs** (the LM head, attention's matrix products, FP16 linears on a LUT or INT8 GPU):
  ``dense_gemm`` on the GPU's FP16 MMA path.
* **attention** (``attention=``): ``unfused`` (default: QK^T GEMM writing the scores, one scale-mask-softmax
  kernel, PV GEMM; what a TVM/Welder stack without a flash kernel produces) or ``fused`` (one
  FlashAttention-style kernel).
* everything else (norms, element-wise, activations, RoPE, KV append, embeddings): streaming kernels;
  ``elementwise='fused'`` (Welder-style) merges a chain of element-wise kernels (each reading the one before)
  into one kernel: one launch, the consumer reads its input on chip, and an intermediate tensor goes to HBM
  only if another kernel also reads it.

``linear_format='fp8_e4m3'`` runs the linear layers' GEMMs with weights and activations in that format (the H100
FP8 TC row). ``search_top`` is how many ranked tilings are simulated exactly; ``progress(done, total, msg)``
reports the search. Each layer is a block keyed by its signature, so identical layers are simulated once.
"""

from __future__ import annotations

from archsim.base.errors import MappingError
from archsim.cyclesim.program import Program
from archsim.cyclesim.tensor_core.machine import (EXACT_TABLE_BITS, GROUP_K, PRECOMPUTE_ADDS_PER_TABLE, TABLE_QUANT_OPS,
                                          Gemm, Machine, ceil_div, fmt_bits)
from archsim.cyclesim.tensor_core.pipeline import table_bytes_per_group
from archsim.mapper import lowering
from archsim.mapper.tensor_core_search import DEFAULT_TOP, search
from archsim.workloads.op_base import DTYPE_BITS

PRECOMPUTE_MODES = ("fused", "kernel", "inline", "none")
ATTENTION_MODES = ("unfused", "fused")
ELEMENTWISE_MODES = ("separate", "fused")
FUSABLE_PRODUCERS = {"rmsnorm", "layernorm", "elementwise", "silu", "gelu", "relu", "rope"}
SFU_KINDS = {"silu": 1, "gelu": 1, "softmax": 1}
SOFTMAX_OPS_PER_SCORE = 7  # scale, mask, max, subtract, exp, sum, divide (the exp also on the SFU)
GEMM_KEYS = ("M", "N", "K", "batch", "path", "a_format", "w_format", "out_format", "tables")
TILING_KEYS = ("bm", "bn", "bk", "wm", "wn", "stages", "split_k")


def gemm_work(result) -> dict:
    """The engine command of a searched GEMM: its shape and formats plus the chosen tiling, as plain values."""
    g, t = result.gemm, result.tiling
    work = {k: getattr(g, k) for k in GEMM_KEYS}
    work.update({k: getattr(t, k) for k in TILING_KEYS})
    work["flops"] = g.ops
    return work


class _Lowerer:
    def __init__(self, machine: Machine, spec, precompute: str, attention: str, linear_format: str | None,
                 top: int, progress, elementwise: str = "separate"):
        self.m, self.spec = machine, spec
        self.elementwise = elementwise
        self.precompute, self.attention, self.linear_format = precompute, attention, linear_format
        self.top, self.progress = top, progress
        self.tilings: dict[str, str] = {}
        self.largest: tuple[int, str] = (0, "")

    # -- GEMMs --------------------------------------------------------------------------------------------
    def gemm(self, g: Gemm, label: str) -> tuple[str, dict]:
        cb = None
        if self.progress is not None:
            def cb(done, total, msg, _label=label):
                self.progress(done, total, f"{_label}: {msg}")
        res = search(self.m, g, top=self.top, progress=cb)
        desc = res.describe()
        self.tilings.setdefault(label.split(".", 1)[-1] if label.startswith("L") else label, desc)
        if g.ops > self.largest[0]:
            self.largest = (g.ops, f"{label}: {desc}")
        return f"{g.path}_gemm", gemm_work(res)

    def _dense_path(self, fmt: str, what: str) -> str:
        m = self.m
        if not m.is_lut and fmt == m.mac_format:
            return "mac"
        if fmt in ("fp16", "bf16"):
            return "dense"
        raise MappingError(f"{what}: {m.name} has no {fmt} tensor-core path (its MMA formats: "
                           f"{'fp16' if m.is_lut else ', '.join(sorted({m.mac_format, 'fp16'}))})",
                           file=self.spec.file, key="components")

    def linear(self, op, name: str, layer) -> tuple[str, dict]:
        fmt = self.linear_format if (self.linear_format and layer is not None) else None
        if op.kind == "mpgemm" and fmt is None:
            if self.m.is_lut:
                self._check_lut(op, name)
                tables = "inline" if self.precompute == "inline" else "global"
                g = Gemm(op.M, op.N, op.K, "lut", op.act_format, op.w_dtype, op.out_dtype, tables=tables)
            else:
                g = Gemm(op.M, op.N, op.K, "mac", op.act_format, op.w_dtype, op.out_dtype)
            return self.gemm(g, name)
        if fmt is None:
            fmt = op.w_dtype
        path = self._dense_path(fmt, f"op {name}")
        return self.gemm(Gemm(op.M, op.N, op.K, path, fmt, fmt, op.out_dtype), name)

    def _check_lut(self, op, name: str) -> None:
        m = self.m
        if op.weight_bits > m.max_weight_bits:
            raise MappingError(f"op {name}: {op.weight_bits}-bit weights; the LUT arrays of {m.name} take at most "
                               f"{m.max_weight_bits} bits (max_weight_bits)", file=self.spec.file, key="components")
        if op.act_format not in m.act_formats:
            raise MappingError(f"op {name}: {op.act_format} activations; the LUT arrays of {m.name} accept "
                               f"{', '.join(m.act_formats)} (act_formats)", file=self.spec.file, key="components")

    # -- tables -------------------------------------------------------------------------------------------
    def table_work(self, op) -> tuple[float, float, float]:
        """(ops, table bytes, activation bytes) of precomputing the tables of ``op``'s activations."""
        m = self.m
        groups = ceil_div(op.K, GROUP_K)
        quant = m.table_bits < EXACT_TABLE_BITS.get(op.act_format, 16)
        ops = op.M * groups * (PRECOMPUTE_ADDS_PER_TABLE + (TABLE_QUANT_OPS if quant else 0)) + op.M * (groups - 1)
        return ops, op.M * groups * table_bytes_per_group(m, op.act_format), op.M * op.K * fmt_bits(op.act_format) / 8

    # -- the rest -----------------------------------------------------------------------------------------
    def attention_kernels(self, op, name: str) -> list[tuple[str, dict, str]]:
        if self.attention == "fused":
            work = {"pairs": op.pairs, "head_dim": op.head_dim, "bytes": op.bytes_read() + op.bytes_written(),
                    "flops": op.flops()}
            return [("attention", work, name)]
        bh = op.batch * op.heads  # K/V of a KV head are loaded once per query head using it (GQA reuse not modelled)
        qk = self.gemm(Gemm(op.q_len, op.kv_len, op.head_dim, "dense", op.dtype if op.dtype in ("fp16", "bf16")
                            else "fp16", "fp16", "fp16", batch=bh), f"{name}.qk")
        scores = bh * op.q_len * op.kv_len
        soft = {"bytes": 2 * scores * 2, "ops": SOFTMAX_OPS_PER_SCORE * scores, "sfu_ops": scores,
                "flops": SOFTMAX_OPS_PER_SCORE * scores}
        pv = self.gemm(Gemm(op.q_len, op.head_dim, op.kv_len, "dense", "fp16", "fp16", "fp16", batch=bh),
                       f"{name}.pv")
        return [(qk[0], qk[1], f"{name}.qk"), ("softmax", soft, f"{name}.softmax"), (pv[0], pv[1], f"{name}.pv")]

    def stream(self, op) -> dict:
        elems = 0
        if op.kind in SFU_KINDS:
            elems = op.rows * op.cols
        return {"bytes": op.bytes_read() + op.bytes_written(), "ops": op.flops(), "sfu_ops": elems,
                "flops": op.flops()}

    def step_kernels(self, graph) -> list[tuple[object, list[tuple[str, dict, str]]]]:
        """Kernels of one step as ``[(layer, [(op, work, label), ...]), ...]`` in program order."""
        lut = self.m.is_lut and self.linear_format is None
        consumers: dict[str, list[str]] = {}
        for name in graph.topo():
            for src in graph.inputs(name):
                consumers.setdefault(src, []).append(name)
        # which producers feed LUT GEMMs, and whether their tables are fused into them
        fused: dict[str, object] = {}
        separate: dict[str, object] = {}
        if lut and self.precompute in ("fused", "kernel"):
            for name in graph.topo():
                op = graph.op(name)
                if op.kind != "mpgemm":
                    continue
                src = graph.inputs(name)[0]
                if src in fused or src in separate:
                    continue
                if self.precompute == "fused" and graph.op(src).kind in FUSABLE_PRODUCERS:
                    fused[src] = op
                else:
                    separate[src] = op
        out: list[tuple[object, list]] = []
        done_tables: set[str] = set()
        chain = None  # (op name, layer, its command) of the last element-wise kernel, for elementwise='fused'
        for name in graph.topo():
            attrs = graph.attrs(name)
            op, layer = attrs["op"], attrs["layer"]
            cmds: list[tuple[str, dict, str]] = []
            if op.kind in ("gemm", "mpgemm"):
                src = graph.inputs(name)[0] if graph.inputs(name) else None
                if src in separate and src not in done_tables:
                    ops, tbytes, abytes = self.table_work(separate[src])
                    cmds.append(("precompute", {"bytes": abytes + tbytes, "ops": ops, "flops": ops},
                                 f"{name}.tables"))
                    done_tables.add(src)
                cmds.append((*self.linear(op, name, layer), name))
            elif op.kind == "attention":
                cmds.extend(self.attention_kernels(op, name))
            else:
                work = self.stream(op)
                label = name
                if name in fused:
                    ops, tbytes, _ = self.table_work(fused[name])
                    work["ops"] += ops
                    work["bytes"] += tbytes
                    if all(graph.op(c).kind == "mpgemm" for c in consumers.get(name, ())):
                        work["bytes"] -= op.bytes_written()
                    label = f"{name}+tables"
                src = graph.inputs(name)[0] if graph.inputs(name) else None
                if (self.elementwise == "fused" and chain is not None and chain[0] == src and chain[1] == layer
                        and op.kind in FUSABLE_PRODUCERS):
                    # Welder-style: one kernel for the chain; this op reads the producer's output on chip, and
                    # the producer writes it to HBM only if something else reads it too
                    prev_op, prev_work, prev_label = chain[2]
                    for k in ("ops", "sfu_ops", "flops"):
                        prev_work[k] = prev_work.get(k, 0) + work.get(k, 0)
                    saved = (2 if consumers.get(src) == [name] else 1) * graph.op(src).bytes_written()
                    prev_work["bytes"] += work["bytes"] - saved
                    merged = (prev_op, prev_work, f"{prev_label}~{label}")
                    target = cmds if cmds else out[-1][1]
                    target[-1] = merged
                    chain = (name, layer, merged)
                    continue
                cmds.append((op.kind, work, label))
                chain = (name, layer, cmds[-1]) if op.kind in FUSABLE_PRODUCERS else None
                if out and out[-1][0] == layer:
                    out[-1][1].extend(cmds)
                else:
                    out.append((layer, cmds))
                continue
            chain = None
            if out and out[-1][0] == layer:
                out[-1][1].extend(cmds)
            else:
                out.append((layer, cmds))
        return out


def _check_memory(machine: Machine, workload, spec) -> None:
    last = workload.step(workload.n_steps - 1).graph
    weights = kv = 0.0
    for op in last.ops():
        if op.kind in ("gemm", "mpgemm"):
            weights += op.K * op.N * fmt_bits(op.w_dtype) / 8
        elif op.kind == "embedding":
            weights += op.vocab * op.dim * fmt_bits(op.dtype) / 8
        elif op.kind == "attention":
            kv += 2 * op.batch * op.n_kv_heads * op.kv_len * op.head_dim * fmt_bits(op.dtype) / 8
    if weights + kv > machine.memory_bytes:
        raise MappingError(f"{workload!r} needs {(weights + kv) / 1e9:.1f} GB of weights and KV cache; "
                           f"{machine.name} has {machine.memory_bytes / 1e9:.1f} GB (memory_bytes)",
                           file=spec.file, key="components")


@lowering("tensor_core_gpu")
def lower_tensor_core_gpu(workload, spec, *, precompute: str = "fused", attention: str = "unfused",
                          linear_format: str | None = None, search_top: int = DEFAULT_TOP, progress=None,
                          check_memory: bool = True, elementwise: str = "separate", **_options) -> Program:
    if elementwise not in ELEMENTWISE_MODES:
        raise MappingError(f"elementwise = {elementwise!r}; expected one of: {', '.join(ELEMENTWISE_MODES)}")
    if precompute not in PRECOMPUTE_MODES:
        raise MappingError(f"precompute = {precompute!r}; expected one of: {', '.join(PRECOMPUTE_MODES)}")
    if attention not in ATTENTION_MODES:
        raise MappingError(f"attention = {attention!r}; expected one of: {', '.join(ATTENTION_MODES)}")
    if linear_format is not None and linear_format not in DTYPE_BITS:
        raise MappingError(f"linear_format = {linear_format!r}; expected a data format such as fp8_e4m3 or fp16")
    machine = Machine.from_spec(spec)
    if check_memory:
        _check_memory(machine, workload, spec)
    comp = next(c for c in spec.walk() if c.impl == machine.impl)
    low = _Lowerer(machine, spec, precompute, attention, linear_format, search_top, progress, elementwise)
    program = Program(engines={"gpu": comp.path}, meta={"reference_clock": "gpu", "workload": repr(workload)})
    for step in workload.steps():
        graph = step.graph
        for layer, cmds in low.step_kernels(graph):
            if layer is not None:
                block = program.block(key=("tc-layer", graph.layer_signature(layer)),
                                      label=f"step{step.index}.L{layer}")
            else:
                block = program.block(key=None, label=f"step{step.index}.{cmds[0][2].split('.')[0]}")
            prev = None
            for op, work, label in cmds:
                prev = block.add("gpu", op, work, deps=() if prev is None else (prev,), label=label)
    program.meta["tilings"] = dict(low.tilings)
    program.meta["report"] = {"mapping": f"precompute {precompute}, attention {attention}, element-wise "
                              f"{elementwise}"
                              + (f", linear layers in {linear_format}" if linear_format else ""),
                              "tiling": low.largest[1]}
    return program
