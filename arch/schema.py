"""Parameter types for component kinds: what a value must be, checked with one-line messages.

A kind declares its parameters as :class:`Param` objects. Numeric parameter names carry their unit
(``freq_mhz``, ``t_rcd_cycles``, ``capacity_bytes``); dimensionless counts are named for what they count
(``channels``, ``banks_per_group``). ``check`` returns the normalized value or raises ``ValueError`` with the
"expected ..." text that the loader wraps with the file and key path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A numeric parameter's name must end in one of these (or be a count, see COUNT_WORDS).
UNIT_SUFFIXES = (
    "_mhz", "_ghz", "_hz", "_cycles", "_ns", "_us", "_ms", "_s", "_bytes", "_kib", "_mib", "_gib", "_bits",
    "_pj", "_nj", "_mw", "_w", "_mm2", "_um2", "_gbps", "_gb_per_s", "_bytes_per_cycle", "_pj_per_bit",
    "_pj_per_access", "_pj_per_op", "_pj_per_mac", "_mw_per_unit", "_ops_per_cycle", "_flops_per_cycle",
    "_ratio", "_fraction", "_percent", "_nm", "_iterations", "_terms", "_per_cycle", "_lanes", "_tflops",
    "_tops", "_v", "_pj_per_byte", "_pj_per_flop", "_bits_per_cycle", "_entries",
)
COUNT_PREFIXES = ("num_", "n_")
COUNT_WORDS = {
    "channels", "ranks", "bank_groups", "banks_per_group", "rows", "columns", "sms", "tensor_cores_per_sm",
    "lut_arrays_per_tensor_core", "cores", "dies", "planes", "blocks_per_plane", "pages_per_block", "ways",
    "macs_per_bank", "lanes", "tile_m", "tile_n", "tile_k", "array_multiplier", "threads", "warps_per_sm",
    "drives", "pcie_lanes", "memory_channels", "levels", "features_per_level", "table_size_log2", "layers", "width", "engines",
    "device_width", "channels_per_chip", "mac_width", "vector_width", "burst_length", "prefetch", "max_batch",
}


def has_unit(name: str) -> bool:
    """True if a numeric parameter name says its unit (or is a named count)."""
    return name in COUNT_WORDS or name.startswith(COUNT_PREFIXES) or name.endswith(UNIT_SUFFIXES)


@dataclass(frozen=True)
class Param:
    """One parameter of a component kind.

    ``type`` is one of ``int``, ``float``, ``str``, ``bool``, ``enum``, ``dict`` (a free mapping of str to
    numbers, used for timing tables); ``positive`` rejects zero and negatives; ``min``/``max`` bound numbers;
    ``choices`` lists the values of an enum.
    """

    type: str
    doc: str
    default: Any = None
    required: bool = False
    positive: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = field(default_factory=tuple)

    def check(self, value: Any) -> Any:
        t = self.type
        if t == "int":
            # a whole number written in exponent form (channels: 2e3) is that integer; 2.5 is not
            if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"expected an integer, got {_show(value)}")
        elif t == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected a number, got {_show(value)}")
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"expected a finite number, got {value}")
        elif t == "str":
            if not isinstance(value, str):
                raise ValueError(f"expected a string, got {_show(value)}")
        elif t == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {_show(value)}")
        elif t == "enum":
            if value not in self.choices:
                raise ValueError(f"expected one of {', '.join(map(str, self.choices))}; got {_show(value)}")
        elif t == "dict":
            if not isinstance(value, dict):
                raise ValueError(f"expected a mapping of names to numbers, got {_show(value)}")
            for k, v in value.items():
                if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ValueError(f"expected a mapping of names to numbers; entry {k!r} is {_show(v)}")
                if v < 0:
                    raise ValueError(f"expected non-negative values; entry {k!r} is {v}")
            return dict(value)
        else:  # pragma: no cover - a kind declared a bad type
            raise AssertionError(f"unknown parameter type {t!r}")
        if t in ("int", "float"):
            if self.positive and value <= 0:
                raise ValueError(f"expected a positive {'integer' if t == 'int' else 'number'}, got {value}")
            if self.min is not None and value < self.min:
                raise ValueError(f"expected a value >= {self.min:g}, got {value}")
            if self.max is not None and value > self.max:
                raise ValueError(f"expected a value <= {self.max:g}, got {value}")
        return value


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


# Shorthands used by the kind declarations.
def count(doc: str, default: int | None = None, **kw) -> Param:
    return Param("int", doc, default=default, required=default is None, positive=True, **kw)


def number(doc: str, default: float | None = None, positive: bool = True, **kw) -> Param:
    return Param("float", doc, default=default, required=default is None, positive=positive, **kw)


def nonneg(doc: str, default: float | None = None, **kw) -> Param:
    return Param("float", doc, default=default, required=default is None, min=0, **kw)


def cycles(doc: str, default: int | None = None) -> Param:
    return Param("int", doc, default=default, required=default is None, min=0)


def text(doc: str, default: str | None = None) -> Param:
    return Param("str", doc, default=default, required=default is None)


def choice(doc: str, choices: tuple[str, ...], default: str | None = None) -> Param:
    return Param("enum", doc, default=default, required=default is None, choices=choices)


def flag(doc: str, default: bool = False) -> Param:
    return Param("bool", doc, default=default)
