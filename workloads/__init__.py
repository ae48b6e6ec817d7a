"""Workloads: the model zoo and the operation-graph IR, with a numpy reference for every op.

    from archsim import workloads
    w = workloads.gpt("gpt2-xl").decode(prompt=128, tokens=1024)   # a Workload; graphs are built per step, lazily
    w.totals()                                                      # FLOPs and bytes over all 1024 steps
    for step in w.steps(): step.graph                              # OpGraph of one token (kv_len grows)
    workloads.get_model("llama2-7b").param_count()
"""

from archsim.workloads.builders import Model, Step, Workload, build_step_graph, gpt, model
from archsim.workloads.graph import OpGraph
from archsim.workloads.ops import (DTYPE_BITS, DTYPE_BYTES, OP_KINDS, Attention, Elementwise, Embedding, Gelu, Gemm,
                           KVAppend, LayerNorm, MpGemm, Op, Relu, RMSNorm, Rope, Silu, Softmax, nbytes, register_op)
from archsim.workloads.zoo import ModelConfig, get_model, list_models

__all__ = [
    "OpGraph", "Op", "Gemm", "MpGemm", "Attention", "Softmax", "LayerNorm", "RMSNorm", "Gelu", "Silu", "Relu",
    "Elementwise", "Embedding", "KVAppend", "Rope", "OP_KINDS", "register_op", "DTYPE_BITS", "DTYPE_BYTES",
    "nbytes", "ModelConfig", "get_model", "list_models", "model", "gpt", "Model", "Workload", "Step",
    "build_step_graph",
]
