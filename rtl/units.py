"""The registry of RTL units: name -> design class, default and test parameters, testbench. The CLI
(``archsim rtl``), the tests and the synthesis report all go through it.

Parameter sets: ``defaults`` are the paper's sizes (what ``export`` and ``report`` use unless told otherwise);
``small`` is what the default test suite and ``archsim rtl sim`` simulate (the Amaranth simulator is slow on
the full-size arrays; the arithmetic per lane is the same).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from archsim.rtl.params import RtlParamError

__all__ = ["UnitInfo", "UNITS", "unit", "build", "parse_params", "run_bench"]


@dataclass(frozen=True)
class UnitInfo:
    name: str
    cls_path: str                 # "module:Class"
    bench_path: str               # "module:Bench"
    doc: str
    small: dict = field(default_factory=dict)
    vector: str = "input beat"    # what one testbench vector is

    def cls(self):
        import importlib

        mod, attr = self.cls_path.split(":")
        return getattr(importlib.import_module(mod), attr)

    def bench_cls(self):
        import importlib

        mod, attr = self.bench_path.split(":")
        return getattr(importlib.import_module(mod), attr)

    def defaults(self) -> dict:
        sig = inspect.signature(self.cls().__init__)
        return {k: p.default for k, p in sig.parameters.items() if k != "self"}


UNITS = {u.name: u for u in (
    UnitInfo("pim_mac", "archsim.rtl.pim_mac:PimBankMac", "archsim.rtl.pim_mac:PimMacBench",
             "PIM-GPT bank MAC: 16 bf16 multipliers, fp32 adder tree and accumulator, WR_BIAS / RD_MAC",
             small={"lanes": 4}, vector="MAC command"),
    UnitInfo("lut_array", "archsim.rtl.lut_unit:LutArray", "archsim.rtl.lut_unit:LutArrayBench",
             "LUT Tensor Core array: table precompute, 8:1 lookup + negate, bit-serial accumulate, M x N x K4",
             small={"m": 2, "n": 8}, vector="weight bit-plane beat"),
    UnitInfo("hash_grid", "archsim.rtl.hashgrid:HashGridEngine", "archsim.rtl.hashgrid:HashGridBench",
             "NGPC hash-grid encoding engine: pos_fract, dense/hashed index, weights, weighted feature sum",
             small={"log2_table": 6}, vector="query"),
    UnitInfo("attention", "archsim.rtl.attention:AttentionCore", "archsim.rtl.attention:AttentionBench",
             "InstInfer attention core: q.k lanes, online softmax (fixed-point exp2), V accumulation",
             small={"head_dim": 8}, vector="key/value row"),
)}


def unit(name: str) -> UnitInfo:
    if name not in UNITS:
        raise RtlParamError(f"unknown RTL unit {name!r}; expected one of {', '.join(UNITS)}")
    return UNITS[name]


def parse_params(items) -> dict:
    """``["lanes=8", "accum=bf16"]`` -> ``{"lanes": 8, "accum": "bf16"}`` (ints, true/false, else strings)."""
    out = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise RtlParamError(f"--param {item!r}: expected KEY=VALUE")
        value = value.strip()
        if value.lower() in ("true", "false"):
            out[key.strip()] = value.lower() == "true"
        else:
            try:
                out[key.strip()] = int(value, 0)
            except ValueError:
                out[key.strip()] = value
    return out


def build(name: str, params: dict | None = None, metadata_only: bool = False):
    """An instance of unit ``name`` with ``params`` over its defaults; unknown parameters are refused.
    ``metadata_only``: the instance is only asked for its timing or widths, never elaborated (no warning)."""
    info = unit(name)
    params = dict(params or {})
    known = info.defaults()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise RtlParamError(f"unit {name}: unknown parameter(s) {', '.join(unknown)}; expected "
                            f"{', '.join(f'{k}={v}' for k, v in known.items())}")
    dut = info.cls()(**params)
    if metadata_only:
        dut._MustUse__silence = True
    return dut


def run_bench(name: str, params: dict | None = None, vectors: int = 1000, seed: int = 0, vcd=None):
    """Build unit ``name``, run its testbench of ``vectors`` vectors in the Amaranth simulator and compare with
    its numpy model. Returns (dut, bench, trace, mismatches)."""
    from archsim.rtl.harness import simulate

    dut = build(name, params)
    bench = unit(name).bench_cls()(dut, vectors, seed)
    trace = simulate(dut, bench.stimulus, vcd=vcd)
    return dut, bench, trace, bench.check(trace.outputs)
