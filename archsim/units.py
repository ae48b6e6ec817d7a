"""Human-readable numbers with units (reports and summaries)."""

from __future__ import annotations


def _scaled(value: float, unit: str, steps: list[tuple[float, str]]) -> str:
    a = abs(value)
    for factor, prefix in steps:
        if a >= factor:
            return f"{value / factor:.4g} {prefix}{unit}"
    factor, prefix = steps[-1]
    return f"{value / factor:.4g} {prefix}{unit}"


_SI = [(1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p")]


def seconds(value: float) -> str:
    """``0.0123`` -> ``'12.3 ms'``."""
    return _scaled(value, "s", _SI)


def joules(value: float) -> str:
    """``1512.6`` -> ``'1.513 kJ'``; ``3e-6`` -> ``'3 uJ'``."""
    return _scaled(value, "J", _SI)
