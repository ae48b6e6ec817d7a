"""IEEE-754 binary32 arithmetic as combinational Amaranth logic, bit-exact with numpy's float32.

Every function adds logic to a module ``m`` and returns a 32-bit ``Signal`` holding the result's bit pattern.
The arithmetic is what IEEE 754 prescribes for round-to-nearest-even, including subnormal inputs and outputs
(numpy on x86-64 and ARM runs without flush-to-zero), signed zeros and infinities. One deliberate difference: a
NaN result is always the canonical quiet NaN ``0x7FC00000`` (a payload is a property of the host CPU's NaN
propagation, not of the number format), so comparisons with numpy treat every NaN as one value
(:func:`canonical_nan`).

How the rounding is done (the classic guard/round/sticky scheme, with one spare bit): a result is first put in a
28-bit frame ``Q`` whose bit 27 is the leading significand bit of a normal number and whose value is
``Q * 2^(E - 154)``, E being the biased exponent; :func:`_round_pack` normalizes it (left shift by the leading-zero
count, but never below exponent 1; right shift with sticky when E < 1), keeps 24 bits, rounds on the 4 bits below
(the lowest of them OR-ed with everything shifted out) to nearest, ties to even, and packs it; a carry out of the
rounding bumps the exponent, E >= 255 gives infinity.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import C, Cat, Mux, Signal, signed, unsigned

__all__ = ["fp32_add", "bf16_mul", "round_fp32_to_bf16", "canonical_nan", "QNAN"]

QNAN = 0x7FC00000
_FRAME = 28  # significand frame width: 24 significand bits + 4 rounding bits


def canonical_nan(bits) -> np.ndarray:
    """uint32 bit patterns with every NaN replaced by 0x7FC00000 (how the RTL writes a NaN)."""
    b = np.asarray(bits).astype(np.uint32)
    nan = ((b & 0x7F800000) == 0x7F800000) & ((b & 0x007FFFFF) != 0)
    return np.where(nan, np.uint32(QNAN), b).astype(np.uint32)


def _clz(m, value: Signal, width: int, name: str) -> Signal:
    """Leading zeros of ``value[0:width]`` (``width`` when it is zero): a priority encoder."""
    lz = Signal(range(width + 1), name=name)
    m.d.comb += lz.eq(width)
    for i in range(width):  # later assignments win: the highest set bit decides
        with m.If(value[i]):
            m.d.comb += lz.eq(width - 1 - i)
    return lz


def _round_pack(m, sign, exp: Signal, frame: Signal, name: str) -> Signal:
    """Round ``(-1)^sign * frame * 2^(exp - 154)`` to binary32 (nearest, ties to even); ``frame`` is _FRAME bits,
    ``exp`` a signed exponent. A zero frame gives a signed zero."""
    lz = _clz(m, frame, _FRAME, f"{name}_lz")
    norm = Signal(_FRAME, name=f"{name}_norm")
    e_out = Signal(signed(12), name=f"{name}_e")
    wide = Signal(2 * _FRAME, name=f"{name}_wide")
    right = Signal(range(64), name=f"{name}_rsh")
    with m.If(exp > lz):                       # normal: bring the leading one to bit 27
        m.d.comb += [norm.eq((frame << lz)[:_FRAME]), e_out.eq(exp - lz)]
    with m.Elif(exp >= 1):                     # subnormal result: shift only down to exponent 1
        m.d.comb += [norm.eq((frame << (exp - 1).as_unsigned()[:5])[:_FRAME]), e_out.eq(1)]
    with m.Else():                             # below exponent 1: shift right, keep a sticky bit
        m.d.comb += [right.eq(Mux(1 - exp > _FRAME + 2, _FRAME + 2, (1 - exp).as_unsigned()[:6])),
                     wide.eq(Cat(C(0, _FRAME), frame) >> right),
                     norm.eq(Cat(wide[_FRAME] | wide[:_FRAME].any(), wide[_FRAME + 1:])),
                     e_out.eq(1)]
    lsb, guard, sticky = norm[4], norm[3], norm[:3].any()
    rounded = Signal(25, name=f"{name}_rnd")
    m.d.comb += rounded.eq(norm[4:] + (guard & (sticky | lsb)))
    e_final = Signal(signed(12), name=f"{name}_ef")
    mant = Signal(23, name=f"{name}_mant")
    with m.If(rounded[24]):                    # 1.111..1 rounded up to 10.000..0
        m.d.comb += [e_final.eq(e_out + 1), mant.eq(0)]
    with m.Else():
        m.d.comb += [e_final.eq(Mux(rounded[23], e_out, 0)), mant.eq(rounded[:23])]
    out = Signal(32, name=f"{name}_out")
    with m.If(e_final >= 255):
        m.d.comb += out.eq(Cat(C(0, 23), C(0xFF, 8), sign))
    with m.Else():
        m.d.comb += out.eq(Cat(mant, e_final.as_unsigned()[:8], sign))
    return out


def _unpack(a, exp_bits: int, man_bits: int):
    man, exp, sign = a[:man_bits], a[man_bits:man_bits + exp_bits], a[man_bits + exp_bits]
    top = (1 << exp_bits) - 1
    is_nan = (exp == top) & man.any()
    is_inf = (exp == top) & ~man.any()
    eff_exp = Mux(exp == 0, 1, exp)
    sig = Cat(man, exp != 0)
    return sign, exp, man, eff_exp, sig, is_nan, is_inf


def fp32_add(m, a, b, name: str) -> Signal:
    """``a + b`` in binary32 (bit patterns in, bit pattern out), round to nearest even."""
    sa, _, _, ea, siga, nan_a, inf_a = _unpack(a, 8, 23)
    sb, _, _, eb, sigb, nan_b, inf_b = _unpack(b, 8, 23)
    swap = b[:31] > a[:31]
    sx, ex, sgx = Mux(swap, sb, sa), Mux(swap, eb, ea), Mux(swap, sigb, siga)
    sy, ey, sgy = Mux(swap, sa, sb), Mux(swap, ea, eb), Mux(swap, siga, sigb)
    d = Signal(8, name=f"{name}_d")
    m.d.comb += d.eq(ex - ey)
    dd = Mux(d > 31, 31, d)
    wide = Signal(54, name=f"{name}_al")
    m.d.comb += wide.eq(Cat(C(0, 30), sgy) >> dd)   # sgy << 3 in the upper 27 bits, shifted right
    y_al = Cat(wide[27] | wide[:27].any(), wide[28:54])        # 27 bits, sticky in bit 0
    x_al = Cat(C(0, 3), sgx)                                   # 27 bits
    eff_sub = sx ^ sy
    total = Signal(_FRAME, name=f"{name}_sum")
    with m.If(eff_sub):
        m.d.comb += total.eq(x_al - y_al)
    with m.Else():
        m.d.comb += total.eq(x_al + y_al)
    exp = Signal(signed(12), name=f"{name}_exp")
    m.d.comb += exp.eq(ex + 1)   # total has its leading bit at 26 (27 on carry): value = total * 2^(ex+1-154)
    packed = _round_pack(m, sx, exp, total, name)
    out = Signal(32, name=name)
    with m.If(nan_a | nan_b | (inf_a & inf_b & eff_sub)):
        m.d.comb += out.eq(QNAN)
    with m.Elif(inf_a):
        m.d.comb += out.eq(a)
    with m.Elif(inf_b):
        m.d.comb += out.eq(b)
    with m.Elif(total == 0):  # exact zero: -0 only for (-0) + (-0); x - x is +0 in round-to-nearest
        m.d.comb += out.eq(Cat(C(0, 31), sx & ~eff_sub))
    with m.Else():
        m.d.comb += out.eq(packed)
    return out


def bf16_mul(m, a, b, name: str) -> Signal:
    """The binary32 product of two bfloat16 values (16-bit patterns in, 32-bit pattern out). The 8x8-bit
    significand product is exact; rounding happens only for subnormal or overflowing results."""
    sa, _, _, ea, siga, nan_a, inf_a = _unpack(a, 8, 7)
    sb, _, _, eb, sigb, nan_b, inf_b = _unpack(b, 8, 7)
    sign = sa ^ sb
    prod = Signal(16, name=f"{name}_p")
    m.d.comb += prod.eq(siga * sigb)
    exp = Signal(signed(12), name=f"{name}_exp")
    m.d.comb += exp.eq(ea + eb - 126)   # frame = prod << 12: value = frame * 2^(ea + eb - 126 - 154)
    frame = Cat(C(0, 12), prod)
    packed = _round_pack(m, sign, exp, frame, name)
    zero_a, zero_b = ~siga.any(), ~sigb.any()
    out = Signal(32, name=name)
    with m.If(nan_a | nan_b | (inf_a & zero_b) | (inf_b & zero_a)):
        m.d.comb += out.eq(QNAN)
    with m.Elif(inf_a | inf_b):
        m.d.comb += out.eq(Cat(C(0, 23), C(0xFF, 8), sign))
    with m.Elif(zero_a | zero_b):
        m.d.comb += out.eq(Cat(C(0, 31), sign))
    with m.Else():
        m.d.comb += out.eq(packed)
    return out


def round_fp32_to_bf16(m, a, name: str) -> Signal:
    """Round a binary32 pattern to bfloat16 (nearest, ties to even), returned as binary32 (low 16 bits zero);
    the integer form of :func:`archsim.base.numerics.to_bf16`: ``(bits + 0x7FFF + bit16) >> 16 << 16``."""
    nan = (a[23:31] == 0xFF) & a[:23].any()
    summed = Signal(unsigned(33), name=f"{name}_s")
    m.d.comb += summed.eq(a + 0x7FFF + a[16])
    out = Signal(32, name=name)
    m.d.comb += out.eq(Mux(nan, QNAN, Cat(C(0, 16), summed[16:32])))
    return out
