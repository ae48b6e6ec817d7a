"""The model zoo: transformer shapes with their sources, and parameter counts computed from the structure.

``ModelConfig`` describes a decoder-only transformer precisely enough to build its op graph and count its
parameters; ``get_model(name)`` returns a shipped one and ``config.scaled(...)`` derives a small variant for tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from archsim.base.errors import WorkloadError
from archsim.workloads.ops import ACT_FORMATS, WEIGHT_FORMATS, dtype_bits

FAMILIES = ("gpt", "opt", "llama", "bitnet")
NORMS = ("layernorm", "rmsnorm")
ACTIVATIONS = ("gelu", "relu", "squared_relu", "swiglu")
GATED_ACTIVATIONS = ("swiglu",)

#: Fields whose change alters the model's shapes (``scaled`` renames the model when one changes).
_SHAPE_FIELDS = ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "d_ff", "vocab", "max_context")


@dataclass(frozen=True)
class ModelConfig:
    """Shapes and structure of a decoder-only transformer.

    The attention width is ``n_heads * d_head`` (usually ``d_model``; GPT-3 XL's published table differs).
    ``weight_format`` None means dense weights in ``dtype``; otherwise the transformer body's linear layers are
    mixed-precision (``MpGemm``) with ``weight_bits``-bit codes and ``act_format`` activations; the embedding and
    LM head stay in ``dtype``.
    """

    name: str
    family: str
    n_layers: int
    d_model: int
    n_heads: int
    d_head: int
    d_ff: int
    vocab: int
    max_context: int
    n_kv_heads: int | None = None  # None: same as n_heads (multi-head attention)
    norm: str = "layernorm"
    norm_eps: float = 1e-5
    activation: str = "gelu"
    tied_embeddings: bool = True
    learned_pos_embeddings: bool = True
    rope_theta: float | None = None  # set for rotary position embeddings
    biases: bool = True
    dtype: str = "fp16"
    weight_format: str | None = None
    weight_bits: int | None = None
    act_format: str | None = None
    source: str = ""

    def __post_init__(self):
        if self.n_kv_heads is None:
            object.__setattr__(self, "n_kv_heads", self.n_heads)
        where = f"model {self.name!r}"
        for f in _SHAPE_FIELDS:
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise WorkloadError(f"{where}: {f} = {v!r}; expected a positive integer")
        for f, allowed in (("family", FAMILIES), ("norm", NORMS), ("activation", ACTIVATIONS)):
            if getattr(self, f) not in allowed:
                raise WorkloadError(f"{where}: {f} = {getattr(self, f)!r}; expected one of: {', '.join(allowed)}")
        if self.n_heads % self.n_kv_heads:
            raise WorkloadError(f"{where}: n_heads = {self.n_heads} is not a multiple of "
                                f"n_kv_heads = {self.n_kv_heads}")
        if self.rope_theta is not None and self.d_head % 2:
            raise WorkloadError(f"{where}: d_head = {self.d_head}; expected an even number with rotary embeddings")
        if not (self.norm_eps > 0):
            raise WorkloadError(f"{where}: norm_eps = {self.norm_eps!r}; expected a positive number")
        try:
            dtype_bits(self.dtype)
        except WorkloadError as e:
            raise WorkloadError(f"{where}: dtype: {e}") from None
        if self.weight_format is not None:
            if self.weight_format not in WEIGHT_FORMATS:
                raise WorkloadError(f"{where}: weight_format = {self.weight_format!r}; "
                                    f"expected None or one of: {', '.join(WEIGHT_FORMATS)}")
            if self.weight_bits not in WEIGHT_FORMATS[self.weight_format]:
                allowed = ", ".join(map(str, WEIGHT_FORMATS[self.weight_format]))
                raise WorkloadError(f"{where}: weight_bits = {self.weight_bits!r} for weight_format "
                                    f"{self.weight_format!r}; expected one of: {allowed}")
            if self.act_format is not None and self.act_format not in ACT_FORMATS:
                raise WorkloadError(f"{where}: act_format = {self.act_format!r}; "
                                    f"expected one of: {', '.join(ACT_FORMATS)}")

    # -- derived shapes ----------------------------------------------------------------------------------
    @property
    def attn_width(self) -> int:
        """Width of the concatenated query heads, ``n_heads * d_head``."""
        return self.n_heads * self.d_head

    @property
    def kv_width(self) -> int:
        """Width of the K (or V) projection, ``n_kv_heads * d_head``."""
        return self.n_kv_heads * self.d_head

    @property
    def gated(self) -> bool:
        """Whether the MLP is gated (gate, up, down projections)."""
        return self.activation in GATED_ACTIVATIONS

    @property
    def quantized(self) -> bool:
        return self.weight_format is not None

    # -- parameters --------------------------------------------------------------------------------------
    def layer_param_count(self) -> int:
        """Parameters of one transformer layer (norms, attention, MLP, biases)."""
        d, ff, aw, kw = self.d_model, self.d_ff, self.attn_width, self.kv_width
        norm = 2 * d if self.norm == "layernorm" else d
        attn = d * (aw + 2 * kw) + aw * d
        mlp = (3 if self.gated else 2) * d * ff
        bias = 0
        if self.biases:
            bias = (aw + 2 * kw + d) + ((2 if self.gated else 1) * ff + d)
        return 2 * norm + attn + mlp + bias

    def embedding_param_count(self) -> int:
        """Token (and learned position) embedding tables plus an untied LM head."""
        n = self.vocab * self.d_model
        if self.learned_pos_embeddings:
            n += self.max_context * self.d_model
        if not self.tied_embeddings:
            n += self.vocab * self.d_model
        return n

    def param_count(self, with_embeddings: bool = True) -> int:
        """All parameters; without embeddings, the transformer body only (layers and final norm).

        "Embeddings" are the token and learned-position tables and an untied LM head (Kaplan et al.'s
        non-embedding count). Computed from the structure, never looked up.
        """
        final_norm = 2 * self.d_model if self.norm == "layernorm" else self.d_model
        body = self.n_layers * self.layer_param_count() + final_norm
        return body + (self.embedding_param_count() if with_embeddings else 0)

    def linear_weight_count(self) -> int:
        """Weights of the matrices a decode step multiplies per token (body linears plus the LM head)."""
        d, ff, aw, kw = self.d_model, self.d_ff, self.attn_width, self.kv_width
        per_layer = d * (aw + 2 * kw) + aw * d + (3 if self.gated else 2) * d * ff
        return self.n_layers * per_layer + self.d_model * self.vocab

    # -- variants ----------------------------------------------------------------------------------------
    def replace(self, **overrides) -> ModelConfig:
        """A copy with ``overrides`` applied and the same name (for dtype or quantization changes)."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise WorkloadError(f"model {self.name!r}: unknown field {unknown[0]!r}; "
                                f"expected one of: {', '.join(sorted(names))}")
        return replace(self, **overrides)

    def scaled(self, **overrides) -> ModelConfig:
        """A smaller (or larger) variant, named ``<name>-scaled`` unless ``name`` is given.

        When ``d_model`` or ``n_heads`` changes and ``d_head`` is not given, ``d_head = d_model // n_heads``;
        when ``n_heads`` changes and the model had plain multi-head attention, ``n_kv_heads`` follows it.
        """
        ov = dict(overrides)
        d = ov.get("d_model", self.d_model)
        h = ov.get("n_heads", self.n_heads)
        if "d_head" not in ov and ("d_model" in ov or "n_heads" in ov):
            if not isinstance(d, int) or not isinstance(h, int) or h <= 0 or d % h:
                raise WorkloadError(f"model {self.name!r}: d_model = {d!r} is not a multiple of n_heads = {h!r}; "
                                    f"expected divisible values or an explicit d_head")
            ov["d_head"] = d // h
        if "n_kv_heads" not in ov and "n_heads" in ov and self.n_kv_heads == self.n_heads:
            ov["n_kv_heads"] = h
        if any(k in ov for k in _SHAPE_FIELDS):
            ov.setdefault("name", f"{self.name}-scaled")
        return self.replace(**ov)

    def as_dict(self) -> dict:
        return asdict(self)


_GPT2 = ("Radford et al. 2019 (GPT-2) and the HuggingFace gpt2 configs: vocab 50257, n_positions 1024, "
         "tied embeddings, learned positions, biases")
_GPT3 = ("Brown et al. 2020 (GPT-3) Table 2.1; vocab 50257, context 2048; dense attention assumed (GPT-3 "
         "alternates dense and locally banded sparse layers)")
_OPT = ("Zhang et al. 2022 (OPT) Table 1 and HuggingFace facebook/opt-* configs: vocab 50272, context 2048, "
        "ReLU, tied embeddings, learned positions (HF stores 2 extra offset rows, not counted here)")
_LLAMA2 = ("Touvron et al. 2023 (Llama 2) and HuggingFace meta-llama/Llama-2-*-hf configs: vocab 32000, context "
           "4096, RMSNorm eps 1e-5, SwiGLU, RoPE theta 1e4, untied, no biases")
_BITNET = ("Ma et al. 2024 (BitNet b1.58) 3B, HuggingFace 1bitLLM/bitnet_b1_58-3B config: LLaMA-like (OpenLLaMA "
           "3B shapes), vocab 32002, context 2048; ternary weights W_INT2, INT8 activations (LUT Tensor Core "
           "Table 1); the sub-layer norms inside BitLinear are not modelled")


def _gpt2(name, n_layers, d_model, n_heads):
    return ModelConfig(name=name, family="gpt", n_layers=n_layers, d_model=d_model, n_heads=n_heads,
                       d_head=64, d_ff=4 * d_model, vocab=50257, max_context=1024, source=_GPT2)


def _gpt3(name, n_layers, d_model, n_heads, d_head, extra=""):
    return ModelConfig(name=name, family="gpt", n_layers=n_layers, d_model=d_model, n_heads=n_heads,
                       d_head=d_head, d_ff=4 * d_model, vocab=50257, max_context=2048, source=_GPT3 + extra)


def _opt(name, n_layers, d_model, n_heads):
    return ModelConfig(name=name, family="opt", n_layers=n_layers, d_model=d_model, n_heads=n_heads,
                       d_head=d_model // n_heads, d_ff=4 * d_model, vocab=50272, max_context=2048,
                       activation="relu", source=_OPT)


def _llama2(name, n_layers, d_model, n_heads, d_ff, n_kv_heads=None):
    return ModelConfig(name=name, family="llama", n_layers=n_layers, d_model=d_model, n_heads=n_heads,
                       n_kv_heads=n_kv_heads, d_head=d_model // n_heads, d_ff=d_ff, vocab=32000, max_context=4096,
                       norm="rmsnorm", activation="swiglu", tied_embeddings=False, learned_pos_embeddings=False,
                       rope_theta=10000.0, biases=False, source=_LLAMA2)


_MODELS: dict[str, ModelConfig] = {m.name: m for m in (
    _gpt2("gpt2-small", 12, 768, 12),
    _gpt2("gpt2-medium", 24, 1024, 16),
    _gpt2("gpt2-large", 36, 1280, 20),
    _gpt2("gpt2-xl", 48, 1600, 25),
    _gpt3("gpt3-small", 12, 768, 12, 64),
    _gpt3("gpt3-medium", 24, 1024, 16, 64),
    _gpt3("gpt3-large", 24, 1536, 16, 96),
    _gpt3("gpt3-xl", 24, 2048, 24, 128,
          "; XL kept as published (24 heads x 128 = 3072-wide attention, 1.52B parameters), although the paper "
          "calls it 1.3B, which matches 16 heads x 128"),
    _opt("opt-13b", 40, 5120, 40),
    _opt("opt-30b", 48, 7168, 56),
    _opt("opt-175b", 96, 12288, 96),
    _llama2("llama2-7b", 32, 4096, 32, 11008),
    _llama2("llama2-13b", 40, 5120, 40, 13824),
    _llama2("llama2-70b", 80, 8192, 64, 28672, n_kv_heads=8),
    ModelConfig(name="bitnet-b1.58-3b", family="bitnet", n_layers=26, d_model=3200, n_heads=32, d_head=100,
                d_ff=8640, vocab=32002, max_context=2048, norm="rmsnorm", activation="swiglu",
                tied_embeddings=False, learned_pos_embeddings=False, rope_theta=10000.0, biases=False,
                weight_format="ternary", weight_bits=2, act_format="int8", source=_BITNET),
)}


# --- InstInfer (issue 14): OPT-6.7B, the smallest model of FlexGen's published T4 table, which checks the FlexGen
# baseline's cost model. (OPT-13B, OPT-30B and LLaMA-2-13B, InstInfer's own models, are above.)
_MODELS["opt-6.7b"] = _opt("opt-6.7b", 32, 4096, 32)


def list_models() -> list[str]:
    """Names of the shipped models, in zoo order."""
    return list(_MODELS)


def get_model(name: str | ModelConfig) -> ModelConfig:
    """The shipped ``ModelConfig`` called ``name`` (a ``ModelConfig`` is returned unchanged)."""
    if isinstance(name, ModelConfig):
        return name
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise WorkloadError(f"unknown model {name!r}; expected one of: {', '.join(_MODELS)}") from None
