"""Lowering for GPU and CPU baselines: one kernel (operator) per workload op, in program order.

The framework these baselines stand for (eager PyTorch / HuggingFace at batch 1) launches a fixed number of
kernels per op; ``KERNELS_PER_OP`` holds those counts as assumptions a user can see and change. Each layer of
each step is a block whose key is the layer's signature, so identical layers are simulated once in burst mode.
"""

from __future__ import annotations

from archsim.cyclesim.program import Program
from archsim.mapper import lowering
from archsim.mapper.guard import check_device_memory
from archsim.workloads.op_base import DTYPE_BITS

# [assumed] kernels launched per op by an eager framework (HF GPT-2 at batch 1): attention is QK^T, scale/mask,
# softmax, PV and the head reshapes; a fused GEMM+bias is one kernel; KV append is a cat/copy.
KERNELS_PER_OP = {"gemm": 1, "mpgemm": 2, "attention": 6, "softmax": 1, "layernorm": 1, "rmsnorm": 2, "gelu": 1,
                  "silu": 1, "relu": 1, "elementwise": 1, "embedding": 2, "kv_append": 2, "rope": 4}
TENSOR_OPS = {"gemm", "mpgemm", "attention"}


def _work(op, comp=None) -> dict:
    """One op as kernels: the spec's ``kernels_per_op`` overrides the counts above; ``framework_dtype: fp32``
    moves every tensor as fp32 (bytes scaled from the op's data type) and runs the math on the FP32 peak."""
    kind = op.kind
    math = getattr(op, "a_dtype", None) or getattr(op, "dtype", None) or "fp16"
    nbytes = op.bytes_read() + op.bytes_written()
    counts = KERNELS_PER_OP
    if comp is not None:
        counts = {**KERNELS_PER_OP, **(comp.get("kernels_per_op") or {})}
        if comp.get("framework_dtype", "model") == "fp32":
            nbytes = nbytes * 32 // DTYPE_BITS.get(math, 16)
            math = "fp32"
    return {"flops": op.flops(), "bytes": nbytes, "math": math, "tensor": kind in TENSOR_OPS,
            "kernels": counts.get(kind, 1)}


def _lower(workload, spec, engine: str, progress=None) -> Program:
    comp = next(c for c in spec.walk() if c.impl in ("GPU", "CPU"))
    if comp.impl == "GPU":
        check_device_memory(workload, spec, comp["memory_bytes"], key=f"components.{comp.path}.memory_bytes",
                            device=f"{comp.get('model', comp.path)} (memory_bytes)")
    program = Program(engines={engine: comp.path}, meta={"reference_clock": engine, "workload": repr(workload)})
    n = workload.n_steps
    for step in workload.steps():
        if progress is not None:
            progress(step.index, n, "mapping steps")
        graph = step.graph
        current_layer = block = prev = None
        for name in graph.topo():
            attrs = graph.attrs(name)
            layer = attrs["layer"]
            if layer != current_layer or block is None:
                key = ("layer", graph.layer_signature(layer)) if layer is not None else None
                block = program.block(key=key, label=f"step{step.index}.L{layer}" if layer is not None
                                      else f"step{step.index}.{name}")
                current_layer = layer
                prev = None
            op = attrs["op"]
            prev = block.add(engine, op.kind, _work(op, comp), deps=() if prev is None else (prev,), label=name)
    if progress is not None:
        progress(n, n, "mapping steps")
    return program


@lowering("gpu")
def lower_gpu(workload, spec, *, progress=None, **_options) -> Program:
    """GPU baselines: the weights plus the KV cache must fit ``memory_bytes`` (else :class:`MappingError`)."""
    return _lower(workload, spec, "gpu", progress)


@lowering("cpu")
def lower_cpu(workload, spec, *, progress=None, **_options) -> Program:
    return _lower(workload, spec, "cpu", progress)
