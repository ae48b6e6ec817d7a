"""The op base class, the dtype table and the registry of op kinds (see ``workloads.ops`` for the ops).

Every op is a frozen, slotted dataclass deriving from ``Op``; ``register_op`` files its class in ``OP_KINDS``
under its ``kind`` string so the mapper and reports can look kinds up by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from archsim.base.errors import WorkloadError
from archsim.base.numerics import DTYPE_BITS

Shape = tuple[int, ...]

#: Storage width in bytes (0.5 for int4, 0.25 for int2, ...).
DTYPE_BYTES: dict[str, int | float] = {k: (b // 8 if b % 8 == 0 else b / 8) for k, b in DTYPE_BITS.items()}

#: Registry of op kinds: ``kind`` string -> op class.
OP_KINDS: dict[str, type[Op]] = {}

_SIG_FIELDS: dict[type, tuple[str, ...]] = {}  # op class -> the fields of its signature (all but name)


def dtype_bits(dtype: str) -> int:
    """Bits of one element of ``dtype``; unknown names raise ``WorkloadError``."""
    try:
        return DTYPE_BITS[dtype]
    except (KeyError, TypeError):
        raise WorkloadError(f"unknown dtype {dtype!r}; expected one of: {', '.join(DTYPE_BITS)}") from None


def nbytes(numel: int, dtype: str) -> int | float:
    """Bytes of ``numel`` elements of ``dtype``: an int when whole, else a float (sub-byte remainder)."""
    bits = numel * dtype_bits(dtype)
    return bits // 8 if bits % 8 == 0 else bits / 8


def register_op(cls: type[Op]) -> type[Op]:
    """Class decorator adding an op class to ``OP_KINDS`` under its ``kind``."""
    if cls.kind in OP_KINDS and OP_KINDS[cls.kind] is not cls:
        raise ValueError(f"op kind {cls.kind!r} is already registered by {OP_KINDS[cls.kind].__name__}")
    OP_KINDS[cls.kind] = cls
    return cls


def _numel(shape: Shape) -> int:
    return math.prod(shape)


@dataclass(frozen=True, slots=True, kw_only=True)
class Op:
    """Base of every op: a unique ``name`` plus shape/dtype fields defined by the subclass."""

    kind: ClassVar[str] = "op"
    name: str

    # -- interface each op implements ---------------------------------------------------------------------
    def inputs(self) -> tuple[tuple[Shape, str], ...]:
        """``(shape, dtype)`` of each argument of ``reference``, in order."""
        raise NotImplementedError

    def output(self) -> tuple[Shape, str]:
        """``(shape, dtype)`` of the result."""
        raise NotImplementedError

    def flops(self) -> int:
        """Arithmetic operations (multiply-add = 2)."""
        raise NotImplementedError

    def reference(self, *inputs: np.ndarray) -> np.ndarray:
        """Numpy implementation."""
        raise NotImplementedError

    # -- derived -----------------------------------------------------------------------------------------
    def bytes_read(self) -> int | float:
        """Bytes of all inputs (ops that read only part of an input override this)."""
        return sum(nbytes(_numel(s), d) for s, d in self.inputs())

    def bytes_written(self) -> int | float:
        """Bytes of the output."""
        shape, dtype = self.output()
        return nbytes(_numel(shape), dtype)

    @property
    def in_shapes(self) -> tuple[Shape, ...]:
        return tuple(s for s, _ in self.inputs())

    @property
    def out_shape(self) -> Shape:
        return self.output()[0]

    @property
    def dtypes(self) -> tuple[str, ...]:
        """Dtypes of the inputs followed by the output's."""
        return tuple(d for _, d in self.inputs()) + (self.output()[1],)

    def signature(self) -> tuple:
        """The op without its name: equal signatures mean identical work (used to spot repeated layers)."""
        cls = type(self)
        names = _SIG_FIELDS.get(cls)
        if names is None:
            names = _SIG_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name != "name")
        return (cls.kind,) + tuple(getattr(self, n) for n in names)

    # -- helpers for subclasses --------------------------------------------------------------------------
    def _require_positive(self, *fields: str) -> None:
        for f in fields:
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise WorkloadError(f"op {self.name!r}: {f} = {v!r}; expected a positive integer")

    def _require_dtypes(self, *fields: str) -> None:
        for f in fields:
            dtype_bits(getattr(self, f))

    def _check(self, arrays: tuple[np.ndarray, ...], n_optional: int = 0) -> tuple[np.ndarray, ...]:
        """Check the count and shapes of reference inputs; the last ``n_optional`` may be omitted."""
        specs = self.inputs()
        if not (len(specs) - n_optional <= len(arrays) <= len(specs)):
            raise WorkloadError(f"op {self.name!r} ({self.kind}): got {len(arrays)} inputs; expected {len(specs)}")
        out = []
        for i, (a, (shape, _)) in enumerate(zip(arrays, specs)):
            a = np.asarray(a)
            if a.shape != shape:
                raise WorkloadError(f"op {self.name!r} ({self.kind}): input {i} has shape {a.shape}; expected {shape}")
            out.append(a)
        return tuple(out)
