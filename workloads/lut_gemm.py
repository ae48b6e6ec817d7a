"""Bit-exact LUT-based mixed-precision GEMM (mpGEMM), as computed by the LUT Tensor Core.

The LUT Tensor Core (Mo et al., arXiv 2408.06003) replaces multipliers by table lookups for low-bit weights times
high-bit activations. This module is the numerical reference for that datapath: it performs the algorithm step by
step (reference/lut-tensor-core.md, "The algorithm (bit-exact form)") so the cycle model, the mapper's functional
co-simulation and the RTL testbench can all be checked against the same numbers, and `dequant_matmul` is the
independent answer it must reproduce.

Steps, for activations A (M x K) and weights W[k,n] = s_n (q[k,n] - z_n) with unsigned b-bit codes q:

1. bit planes q = sum_i 2^i w_i (`bit_planes`);
2. reinterpretation t_i = 2 w_i - 1 in {-1,+1}: q' = 2q - (2^b-1), s' = s/2, z' = 2z + 1 - 2^b (`quantize`);
3. an 8-entry odd-symmetric table per (row m, group g of 4 activations), element 0's sign fixed at -1
   (`precompute_tables`);
4. offline weight encoding: sign bit c = w_i[4g,n], index j = sum_k 2^(k-1) (w_i[4g+k,n] XOR c) (`encode_weights`);
5. lookup with conditional negate, L = (-1)^c T[j] = sum_{k in g} t_i[k,n] a[m,k] (`lut_lookup`);
6. bit-serial shift-accumulate P = sum_i 2^i L_i;
7. epilogue O = s' (sum_g P - z' rowsum(A)).

K not a multiple of 4 is padded with zero activations (and zero codes); a zero activation contributes nothing to
any table entry or to the row sum, so padding never changes the result.

Exactness: with INT8/INT16 activations everything up to the epilogue is int64 arithmetic, and the result equals
`dequant_matmul` bit for bit: the LUT path forms s' * float(2X) and the reference s * float(X) with X = A (q - z);
scaling by 2 is exact in binary floating point, so both round the same real number once. FP16/FP8 activations are
accumulated in float64 by default (exact for these inputs, since their exponent span plus the code width fits in
53 bits; only the epilogue rounds); `accum='fp32'` emulates a float32 accumulator in a fixed, documented order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from archsim.base.errors import WorkloadError

GROUP_K = 4
"""Activations per table (the paper's K=4, which gave the best density)."""
TABLE_ENTRIES = 2 ** (GROUP_K - 1)
"""Entries per stored table: odd symmetry halves the 16 sign patterns to 8."""

FP8_E4M3_MAX = 448.0
"""Largest finite FP8 e4m3 value (1.75 x 2^8); the 1.111 x 2^8 pattern is NaN in the OCP e4m3 format."""
FP8_E4M3_MIN_SUBNORMAL = 2.0**-9
FP16_MAX = 65504.0

ACT_FORMATS = ("int8", "int16", "fp16", "fp8_e4m3")
_INT_ACT_RANGE = {"int8": (-128, 127), "int16": (-32768, 32767)}
_ACCUMS = ("fp64", "fp32")
_MAX_ABS_ZERO = 2**20  # keeps z' * rowsum and every accumulator far inside int64
_CHUNK_ELEMS = 1 << 22  # M x groups x N elements processed at once, bounds the memory of the lookup stage

# Signs of elements 1..3 for table entry j: bit k-1 of j set -> +1, clear -> -1 (element 0 is always -1).
_TABLE_SIGNS = np.array([[2 * ((j >> k) & 1) - 1 for k in range(GROUP_K - 1)] for j in range(TABLE_ENTRIES)])


# --------------------------------------------------------------------------------------------------- formats


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_bits(bits) -> int:
    if not _is_int(bits) or not 1 <= bits <= 4:
        raise WorkloadError(f"bits: expected an integer in 1..4 (weight formats INT1-INT4), got {bits!r}")
    return int(bits)


@dataclass(frozen=True)
class WeightFormat:
    """A low-bit weight format: `kind` is 'uint', 'int' (two's complement), 'binary' {-1,+1} or 'ternary' {-1,0,+1}.

    `bits` is the stored width b (1..4); binary is always 1 bit and ternary (BitNet b1.58, the paper's W_INT2)
    always 2 bits, so for those it may be omitted.
    """

    kind: str
    bits: int | None = None

    _FIXED_BITS = {"binary": 1, "ternary": 2}

    def __post_init__(self):
        if self.kind in self._FIXED_BITS:
            fixed = self._FIXED_BITS[self.kind]
            if self.bits not in (None, fixed):
                raise WorkloadError(f"bits: {self.kind} weights are {fixed}-bit, got {self.bits!r}")
            object.__setattr__(self, "bits", fixed)
        elif self.kind in ("uint", "int"):
            object.__setattr__(self, "bits", _check_bits(self.bits))
        else:
            raise WorkloadError(
                f"fmt: unknown weight kind {self.kind!r}; expected one of 'uint', 'int', 'binary', 'ternary'"
            )

    @classmethod
    def parse(cls, fmt: str | WeightFormat) -> WeightFormat:
        """Accept a WeightFormat or a name: 'uint1'..'uint4', 'int1'..'int4', 'binary', 'ternary'."""
        if isinstance(fmt, WeightFormat):
            return fmt
        if isinstance(fmt, str):
            if fmt in cls._FIXED_BITS:
                return cls(fmt)
            match = re.fullmatch(r"(uint|int)(\d+)", fmt)
            if match:
                return cls(match.group(1), int(match.group(2)))
        raise WorkloadError(
            f"fmt: unknown weight format {fmt!r}; expected one of uint1-uint4, int1-int4, binary, ternary"
        )

    @property
    def name(self) -> str:
        return self.kind if self.kind in self._FIXED_BITS else f"{self.kind}{self.bits}"

    @property
    def code_range(self) -> tuple[int, int]:
        """Smallest and largest code the user may pass (binary additionally excludes 0)."""
        b = self.bits
        return {"uint": (0, 2**b - 1), "int": (-(2 ** (b - 1)), 2 ** (b - 1) - 1), "binary": (-1, 1),
                "ternary": (-1, 1)}[self.kind]


@dataclass(frozen=True)
class UnsignedWeights:
    """The internal form every format is turned into: unsigned codes q[K,N] in 0..2^b-1 plus the reinterpreted
    per-channel scale s' and zero point z', so that W = s' (q' - z') with q' = 2q - (2^b - 1).

    z' is an integer for every supported format (odd for uint/int/ternary, 0 for binary), which is what keeps the
    epilogue exact for integer activations.
    """

    q: np.ndarray  # uint8 [K, N]
    bits: int
    scale_prime: np.ndarray  # float64 [N]
    zero_prime: np.ndarray  # int64 [N]

    @property
    def scale(self) -> np.ndarray:
        """s of W = s (q - z) in the unsigned form."""
        return 2.0 * self.scale_prime

    @property
    def zero(self) -> np.ndarray:
        """z of W = s (q - z) in the unsigned form (1/2 for binary weights, hence float)."""
        return (self.zero_prime + (2**self.bits - 1)) / 2.0


def _check_codes(codes, fmt: WeightFormat) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[0] < 1 or codes.shape[1] < 1 or codes.dtype.kind not in "iuf":
        raise WorkloadError(f"codes: expected a non-empty numeric 2-D array [K, N], got shape {codes.shape}")
    lo, hi = fmt.code_range
    ok = np.all(np.isfinite(codes)) and np.all(codes == np.round(codes)) and np.all((codes >= lo) & (codes <= hi))
    if fmt.kind == "binary":
        ok = ok and not np.any(codes == 0)
    if not ok:
        allowed = "-1 or +1" if fmt.kind == "binary" else f"integers in [{lo}, {hi}]"
        raise WorkloadError(f"codes: {fmt.name} codes must be {allowed}")
    return codes.astype(np.int64)


def _per_channel(value, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64) if value is not None else np.zeros(n)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise WorkloadError(f"{name}: expected a scalar or shape (N,) = ({n},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise WorkloadError(f"{name}: expected finite values")
    return arr


def _check_zero(zero, n: int, fmt: WeightFormat) -> np.ndarray:
    z = _per_channel(zero, n, "zero")
    if fmt.kind in ("binary", "ternary"):
        if np.any(z != 0):
            raise WorkloadError(f"zero: {fmt.kind} weights have no zero point; expected None or 0")
    elif np.any(z != np.round(z)) or np.any(np.abs(z) > _MAX_ABS_ZERO):
        raise WorkloadError("zero: expected integer zero points with |zero| <= 2**20 (exact integer epilogue)")
    return z.astype(np.int64)


def _check_scale(scale, n: int) -> np.ndarray:
    s = _per_channel(scale, n, "scale")
    if np.any(s / 2 * 2 != s):
        raise WorkloadError("scale: expected values whose half is exact in float64 (no subnormal scales)")
    return s


def quantize(codes, scale, zero, fmt: str | WeightFormat) -> UnsignedWeights:
    """Turn user codes (in `fmt`), per-channel scale s_n and zero point z_n into the internal unsigned form.

    uint:    q = codes,               z' = 2 z + 1 - 2^b,        s' = s / 2
    int:     q = codes + 2^(b-1),     z' = 2 z_s + 1             (z = z_s + 2^(b-1))
    binary:  q = (codes + 1) / 2,     z' = 0,                    s' = s  (W = s * code = s (q' - 0))
    ternary: q = codes + 1, b = 2,    z' = -1                    (z = 1), s' = s / 2
    `zero` may be None (0); binary and ternary weights have no zero point.
    """
    fmt = WeightFormat.parse(fmt)
    c = _check_codes(codes, fmt)
    n = c.shape[1]
    s = _check_scale(scale, n)
    z = _check_zero(zero, n, fmt)
    b = fmt.bits
    if fmt.kind == "uint":
        q, zp, sp = c, 2 * z + 1 - 2**b, s / 2
    elif fmt.kind == "int":
        q, zp, sp = c + 2 ** (b - 1), 2 * z + 1, s / 2
    elif fmt.kind == "binary":
        q, zp, sp = (c + 1) // 2, np.zeros(n, dtype=np.int64), s.copy()
    else:  # ternary
        q, zp, sp = c + 1, np.full(n, -1, dtype=np.int64), s / 2
    return UnsignedWeights(q=q.astype(np.uint8), bits=b, scale_prime=sp, zero_prime=zp.astype(np.int64))


# ----------------------------------------------------------------------------------------------- activations


def _check_act_fmt(act_fmt) -> str:
    if act_fmt not in ACT_FORMATS:
        raise WorkloadError(
            f"act_fmt: unknown activation format {act_fmt!r}; expected one of int8, int16, fp16, fp8_e4m3"
        )
    return act_fmt


def round_fp8_e4m3(x) -> np.ndarray:
    """Round to the nearest FP8 e4m3 value (ties to even), saturating to +-448; returns float64.

    e4m3: 1 sign, 4 exponent (bias 7), 3 mantissa bits; normals 2^-6..448, subnormals multiples of 2^-9; no
    infinities (+-inf saturate to +-448 like finite overflow); NaN stays NaN. Written with numpy alone: find each
    value's quantum (2^(e-3) in binade [2^e, 2^(e+1)), 2^-9 below the normal range), round the quotient with
    np.rint (round half to even: an even quotient is an even mantissa) and clip.
    """
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    safe = np.where(finite, x, 0.0)
    _, e = np.frexp(safe)  # safe = m * 2^e with 0.5 <= |m| < 1, so the binade exponent is e - 1
    quantum_exp = np.maximum(e - 1 - 3, -9)
    y = np.rint(np.ldexp(safe, -quantum_exp))
    y = np.ldexp(y, quantum_exp)
    y = np.clip(y, -FP8_E4M3_MAX, FP8_E4M3_MAX)
    y = np.where(np.isinf(x), np.copysign(FP8_E4M3_MAX, x), y)
    y = np.where(np.isnan(x), np.nan, y)
    return np.copysign(y, x)  # keeps -0.0 for negative inputs that round to zero


def convert_activations(A, act_fmt: str) -> np.ndarray:
    """Validate A [M, K] and bring it into `act_fmt`: int64 for INT8/INT16 (values must already be integers in
    range; nothing is silently rounded), float64 holding FP16- or FP8-e4m3-rounded values for the float formats."""
    act_fmt = _check_act_fmt(act_fmt)
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1 or A.dtype.kind not in "iuf":
        raise WorkloadError(f"A: expected a non-empty numeric 2-D array [M, K], got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise WorkloadError("A: expected finite activations")
    if act_fmt in _INT_ACT_RANGE:
        lo, hi = _INT_ACT_RANGE[act_fmt]
        if np.any(A != np.round(A)) or np.any(A < lo) or np.any(A > hi):
            raise WorkloadError(f"A: {act_fmt} activations must be integers in [{lo}, {hi}]")
        return A.astype(np.int64)
    if act_fmt == "fp16":
        with np.errstate(over="ignore"):
            A16 = A.astype(np.float16)
        if not np.all(np.isfinite(A16)):
            raise WorkloadError(f"A: fp16 activations must lie within +-{FP16_MAX:g} after rounding")
        return A16.astype(np.float64)
    return round_fp8_e4m3(A)


# ------------------------------------------------------------------------------------------ steps 1, 3, 4, 5


def _pad_k(x: np.ndarray, axis: int) -> np.ndarray:
    """Pad axis K with zeros up to a multiple of GROUP_K (zero activations contribute nothing)."""
    pad = (-x.shape[axis]) % GROUP_K
    if pad == 0:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, pad)
    return np.pad(x, widths)


def bit_planes(q, bits: int) -> np.ndarray:
    """Step 1: w[i, k, n] = bit i of q[k, n], so q = sum_i 2^i w_i. Returns uint8 [bits, K, N]."""
    bits = _check_bits(bits)
    q = np.asarray(q)
    if q.ndim != 2 or q.dtype.kind not in "iu" or np.any(q < 0) or np.any(q >= 2**bits):
        raise WorkloadError(f"q: expected a 2-D integer array of unsigned {bits}-bit codes in [0, {2**bits - 1}]")
    shifts = np.arange(bits).reshape(bits, 1, 1)
    return ((q.astype(np.int64)[None] >> shifts) & 1).astype(np.uint8)


def precompute_tables(A, accum: str = "fp64") -> tuple[np.ndarray, np.ndarray]:
    """Step 3: the 8-entry symmetric table of every (row m, group g) and the activation row sums.

    T[m,g][j] = -a[m,4g] + sum_{k=1..3} (2 bit_{k-1}(j) - 1) a[m,4g+k], built left to right in that order (so the
    float32 emulation has a defined rounding order). Integer A gives exact int64 tables; float A gives float64
    tables, or float32 ones with accum='fp32'. The row sum is taken from the tables, rowsum[m] = -sum_g T[m,g][0]
    (entry 0 is minus the group sum), which is why the hardware gets it for free; groups are summed in order.
    Returns (tables [M, G, 8], rowsum [M]) with G = ceil(K / 4).
    """
    if accum not in _ACCUMS:
        raise WorkloadError(f"accum: expected 'fp64' or 'fp32', got {accum!r}")
    A = np.asarray(A)
    if A.ndim != 2:
        raise WorkloadError(f"A: expected a 2-D array [M, K], got shape {A.shape}")
    dtype = np.int64 if A.dtype.kind in "iu" else (np.float32 if accum == "fp32" else np.float64)
    Ag = _pad_k(A.astype(dtype), axis=1).reshape(A.shape[0], -1, GROUP_K)
    signs = _TABLE_SIGNS.astype(dtype)
    tables = np.broadcast_to(-Ag[..., 0:1], Ag.shape[:2] + (TABLE_ENTRIES,))
    for k in range(1, GROUP_K):
        tables = tables + signs[:, k - 1] * Ag[..., k : k + 1]
    group_sums = -tables[..., 0]
    rowsum = group_sums.sum(axis=1) if dtype is np.int64 else np.cumsum(group_sums, axis=1)[:, -1]
    return np.ascontiguousarray(tables), rowsum


def encode_weights(q, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 4, done offline: for every bit plane i, group g and column n, the sign bit c = w_i[4g, n] and the
    3-bit index j = sum_{k=1..3} 2^(k-1) (w_i[4g+k, n] XOR c). Flipping all bits when c = 1 maps the pattern onto
    the stored half of the odd-symmetric table, so the hardware needs only a conditional negate.
    Returns (sign bool [bits, G, N], index uint8 [bits, G, N]); K is zero-padded to a multiple of 4.
    """
    planes = _pad_k(bit_planes(q, bits), axis=1)
    nbits, kp, n = planes.shape
    grouped = planes.reshape(nbits, kp // GROUP_K, GROUP_K, n)
    sign = grouped[:, :, 0, :]
    flipped = grouped[:, :, 1:, :] ^ sign[:, :, None, :]
    index = sum(flipped[:, :, k - 1, :].astype(np.uint8) << (k - 1) for k in range(1, GROUP_K))
    return sign.astype(bool), index.astype(np.uint8)


def _lookup_plane(tables: np.ndarray, sign: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Step 5 for one bit plane: L[m, g, n] = (-1)^sign[g,n] tables[m, g, index[g,n]] (an 8:1 mux + negate)."""
    values = tables[:, np.arange(tables.shape[1])[:, None], index]
    return np.where(sign, -values, values)


def lut_lookup(tables, sign, index) -> np.ndarray:
    """Step 5 for every bit plane: L[i, m, g, n] = sum_{k in g} t_i[k, n] a[m, k]. Returns [bits, M, G, N]."""
    tables, sign, index = np.asarray(tables), np.asarray(sign), np.asarray(index)
    if tables.ndim != 3 or sign.ndim != 3 or sign.shape != index.shape or tables.shape[1] != sign.shape[1]:
        raise WorkloadError(f"index: expected sign and index [bits, G, N] matching tables [M, G, 8], got "
                            f"tables {tables.shape}, sign {sign.shape}, index {index.shape}")
    return np.stack([_lookup_plane(tables, sign[i], index[i]) for i in range(sign.shape[0])])


# ------------------------------------------------------------------------------------ table quantization


def quantize_tables(tables: np.ndarray, A: np.ndarray, table_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Quantize each 8-entry table to signed `table_bits` integers (paper section 3.1.3, T-MAC's scheme).

    scale[m,g] = sum_{k in g} |a[m,k]| / (2^(bits-1) - 1): the largest entry magnitude is that sum, so the table
    just fills the range. Entries are rounded half to even and clipped to +-(2^(bits-1) - 1). For integer
    activations the scale is never taken below 1: a table that already fits in `table_bits` stays exact (finer
    steps than one integer unit gain nothing), which is why INT8 activations are exact from 11 bits on (an INT8
    table entry can reach 4 x 128 = 512) and lossy below. Returns (int64 codes [M, G, 8], float64 scale [M, G]).
    """
    qmax = 2 ** (table_bits - 1) - 1
    A = np.asarray(A)
    Ag = _pad_k(np.abs(A.astype(np.float64)), axis=1).reshape(A.shape[0], -1, GROUP_K)
    scale = Ag.sum(axis=2) / qmax
    if A.dtype.kind in "iu":
        scale = np.maximum(scale, 1.0)
    safe = np.where(scale > 0, scale, 1.0)[..., None]
    codes = np.clip(np.rint(tables.astype(np.float64) / safe), -qmax, qmax).astype(np.int64)
    return codes, scale


# ------------------------------------------------------------------------------------- steps 6, 7 and API


def _validate_gemm(A, codes, scale, zero, fmt, act_fmt, table_bits, accum):
    act_fmt = _check_act_fmt(act_fmt)
    fmt = WeightFormat.parse(fmt)
    if table_bits is not None and (not _is_int(table_bits) or not 2 <= table_bits <= 32):
        raise WorkloadError(f"table_bits: expected None or an integer in 2..32, got {table_bits!r}")
    if accum not in _ACCUMS:
        raise WorkloadError(f"accum: expected 'fp64' or 'fp32', got {accum!r}")
    if accum == "fp32" and act_fmt in _INT_ACT_RANGE:
        raise WorkloadError(f"accum: 'fp32' applies to float activations; {act_fmt} accumulates exactly in int64")
    a = convert_activations(A, act_fmt)
    c = np.asarray(codes)
    if c.ndim == 2 and c.shape[0] != a.shape[1]:
        raise WorkloadError(f"codes: expected {a.shape[1]} rows (K, the columns of A), got {c.shape[0]}")
    return a, fmt


def lut_mpgemm(A, codes, scale, zero, fmt, act_fmt: str, table_bits: int | None = None,
               accum: str = "fp64") -> np.ndarray:
    """O[M, N] = A @ W, W[k,n] = scale_n (codes[k,n] - zero_n), computed by the LUT Tensor Core algorithm.

    `fmt` is a weight format (WeightFormat or 'uint1'..'uint4', 'int1'..'int4', 'binary', 'ternary'); `act_fmt`
    is 'int8', 'int16', 'fp16' or 'fp8_e4m3' (float activations are rounded to the format first). `table_bits`
    None keeps exact tables; an integer quantizes every table to that many signed bits (`quantize_tables`) and
    dequantizes after the bit-serial accumulation. `accum` ('fp64' or 'fp32', float activations only) is the
    accumulator: 'fp32' rounds every addition to float32 in this order: table entries left to right, the bit
    planes LSB first (P += 2^i L_i, an exponent add), groups in increasing g, then the epilogue (rowsum times z',
    the subtraction, the scale). The hardware accumulates in FP32; 'fp64' is exact for FP16/FP8 inputs up to the
    epilogue's single rounding. Integer activations without `table_bits` are exact and equal `dequant_matmul`
    bit for bit. Returns float64 [M, N].
    """
    a, fmt = _validate_gemm(A, codes, scale, zero, fmt, act_fmt, table_bits, accum)
    w = quantize(codes, scale, zero, fmt)
    tables, rowsum = precompute_tables(a, accum)
    sign, index = encode_weights(w.q, w.bits)
    exact_int = a.dtype.kind == "i" and table_bits is None
    fdtype = np.float32 if accum == "fp32" else np.float64
    if table_bits is not None:
        tables, table_scale = quantize_tables(tables, a, table_bits)
        table_scale = table_scale.astype(fdtype)

    M, G, _ = tables.shape
    N = w.q.shape[1]
    acc = np.zeros((M, N), dtype=np.int64 if exact_int else fdtype)
    chunk = max(1, _CHUNK_ELEMS // (M * N))
    for g0 in range(0, G, chunk):
        groups = slice(g0, min(G, g0 + chunk))
        P = None  # step 6: P[m, g, n] = sum_i 2^i L_i, LSB first
        for i in range(w.bits):
            term = _lookup_plane(tables[:, groups], sign[i, groups], index[i, groups]) * tables.dtype.type(2**i)
            P = term if P is None else P + term
        if table_bits is not None:  # dequantize after the bit-serial accumulation
            P = table_scale[:, groups, None] * P.astype(fdtype)
        if fdtype is np.float32 and not exact_int:
            for g in range(P.shape[1]):  # float32: groups accumulate strictly in order
                acc = acc + P[:, g, :]
        else:
            acc = acc + P.sum(axis=1)

    # step 7: O = s' (sum_g P - z' rowsum)
    if exact_int:
        return w.scale_prime * (acc - w.zero_prime * rowsum[:, None]).astype(np.float64)
    zp, sp = w.zero_prime.astype(fdtype), w.scale_prime.astype(fdtype)
    out = sp * (acc - zp * rowsum.astype(fdtype)[:, None])
    return out.astype(np.float64)


def dequant_matmul(A, codes, scale, zero, fmt, act_fmt: str) -> np.ndarray:
    """Independent reference: dequantize the user's codes and multiply, without tables or bit planes.

    The signed offsets d = codes - zero are taken straight from the user's codes (binary and ternary codes are
    their own offsets). Integer activations: O = scale_n * (A @ d), the integer product in int64 and one float64
    multiply, which is A @ W with W = s (q - z) computed without intermediate rounding, the same way the LUT
    epilogue computes it. Float activations: W = scale * d in float64, then A @ W in float64.
    """
    a, fmt = _validate_gemm(A, codes, scale, zero, fmt, act_fmt, None, "fp64")
    c = _check_codes(codes, fmt)
    s = _check_scale(scale, c.shape[1])
    z = _check_zero(zero, c.shape[1], fmt)
    d = c - z
    if a.dtype.kind == "i":
        return s * (a @ d).astype(np.float64)
    return a @ (s * d.astype(np.float64))


@dataclass(frozen=True)
class ErrorStats:
    """Largest absolute error, and that error relative to the largest |exact| output (normwise, so outputs near
    zero do not blow it up)."""

    max_abs: float
    max_rel: float


def error_stats(approx, exact) -> ErrorStats:
    """Max absolute and normwise-relative error of `approx` against `exact`."""
    approx, exact = np.asarray(approx, dtype=np.float64), np.asarray(exact, dtype=np.float64)
    max_abs = float(np.max(np.abs(approx - exact))) if exact.size else 0.0
    denom = float(np.max(np.abs(exact))) if exact.size else 0.0
    max_rel = max_abs / denom if denom > 0 else (0.0 if max_abs == 0 else float("inf"))
    return ErrorStats(max_abs, max_rel)


def table_quant_error(A, codes, scale, zero, fmt, act_fmt: str, table_bits: int,
                      accum: str = "fp64") -> ErrorStats:
    """Error of `table_bits`-bit tables against exact tables (same accumulator), for tests and reports."""
    exact = lut_mpgemm(A, codes, scale, zero, fmt, act_fmt, None, accum)
    return error_stats(lut_mpgemm(A, codes, scale, zero, fmt, act_fmt, table_bits, accum), exact)


# ------------------------------------------------------------------------------------------ operation counts


@dataclass(frozen=True)
class LutOpCounts:
    """Operation counts of one LUT mpGEMM O[M,N] = A[M,K] W[K,N] with `bits`-bit weights, for the cycle model.

    precompute_adds_per_table = 10: entry 0 = -a0 - a1 - a2 - a3 takes 3 adds; the other 7 entries each differ
    from an earlier one in one sign (walk j in Gray-code order), T[j'] = T[j] +- 2 a_k, one add each, the
    doubled activations being shifts. The row sum costs G - 1 adds per row (rowsum = -sum_g T[g][0]).
    A lookup is an 8:1 mux read plus a conditional negate; each is followed by one shift-accumulate add.
    """

    groups: int  # G = ceil(K / 4)
    tables: int  # M * G
    precompute_adds_per_table: int
    precompute_adds: int  # tables * precompute_adds_per_table
    rowsum_adds: int  # M * (G - 1)
    lookups_per_output: int  # G * bits
    lookups: int  # M * N * G * bits
    accumulate_adds: int  # one per lookup
    epilogue_ops_per_output: int  # z' * rowsum, subtract, multiply by s'
    lmmas: int  # ceil(M / tile_m) * ceil(N / tile_n) * G instructions of shape tile_m x tile_n x 4
    bitserial_cycles_per_lmma: int  # W_BIT: one weight bit plane per cycle
    bitserial_cycles: int  # lmmas * bits


def lut_op_counts(M: int, N: int, K: int, bits: int, tile_m: int = 2, tile_n: int = 64) -> LutOpCounts:
    """Count table builds, lookups and bit-serial cycles; the default lmma tile is the paper's M2 N64 K4."""
    bits = _check_bits(bits)
    for name, v in (("M", M), ("N", N), ("K", K), ("tile_m", tile_m), ("tile_n", tile_n)):
        if not _is_int(v) or v < 1:
            raise WorkloadError(f"{name}: expected a positive integer, got {v!r}")
    G = -(-K // GROUP_K)
    per_table = (GROUP_K - 1) + (TABLE_ENTRIES - 1)
    lookups, lmmas = M * N * G * bits, -(-M // tile_m) * -(-N // tile_n) * G
    return LutOpCounts(G, M * G, per_table, M * G * per_table, M * (G - 1), G * bits, lookups, lookups, 3, lmmas,
                       bits, lmmas * bits)
