"""Guards instead of runaway memory: estimate a run's state size and work before it starts, refuse what cannot run.

A lowering's state (its program, the simulator's per-channel state) and its work (the commands the simulator
executes) follow from the workload and the spec by arithmetic, so they are estimated without building anything:
``estimate(workload, spec)`` is an :class:`Estimate`, and ``check(workload, spec, limits)`` raises
:class:`~archsim.base.errors.MappingError` naming the limit and the estimate when either is over its
:class:`Limits`. Families register their own estimator with ``@estimator("family")``; the default one counts
the ops of the workload's last step (the largest) times the steps, each op one command of a list-based
program.

The estimates are conservative on purpose (a little above what a run really holds, see the tests), and the
limits are parameters: ``Limits(memory_bytes=..., commands=...)`` (``archsim run --memory-limit/--work-limit``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from archsim.base.errors import MappingError
from archsim.base.registry import Registry

#: default work limit: simulator commands (engine commands of the program) per run
DEFAULT_COMMAND_LIMIT = 1_000_000_000
#: default memory limit: this fraction of the machine's physical memory
MEMORY_FRACTION = 0.75
#: bytes a command of a list-based program holds (Command, its work dict and label, the step graphs it came
#: from); measured ~1,000 B on GPT-2 on a T4, rounded up
BYTES_PER_COMMAND = 1200
#: bytes of one pointer in a Python list (a per-channel instruction list holds one per channel)
POINTER_BYTES = 8


def physical_memory_bytes() -> int:
    """The machine's physical memory (sysconf), or 8 GiB where it cannot be read."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


@dataclass(frozen=True)
class Limits:
    """What a run may use: ``memory_bytes`` of state, ``commands`` of simulator work. ``None``: the default."""

    memory_bytes: int | None = None
    commands: int | None = None

    def resolved(self) -> "Limits":
        return Limits(memory_bytes=int(self.memory_bytes if self.memory_bytes is not None
                                       else physical_memory_bytes() * MEMORY_FRACTION),
                      commands=int(self.commands if self.commands is not None else DEFAULT_COMMAND_LIMIT))


@dataclass(frozen=True)
class Estimate:
    """A run's estimated state (bytes) and work (simulator commands); ``*_key`` names what drives each, and
    ``*_file`` the file that key is in (None: a workload argument)."""

    memory_bytes: int
    commands: int
    memory_key: str = "workload"
    commands_key: str = "tokens"
    memory_file: str | None = None
    detail: str = ""


Estimator = Callable[..., Estimate]
#: family -> estimator; registered next to the family's lowering (the registry loads the mapper's modules)
ESTIMATORS: Registry[Estimator] = Registry("estimator", package="archsim.mapper")


def estimator(*families: str):
    """Register an estimator ``fn(workload, spec, **options) -> Estimate`` for architecture families."""
    return ESTIMATORS.register(*families)


def default_estimate(workload, spec, **_options) -> Estimate:
    """A list-based program: one command per op of every step (the last step is the largest)."""
    last = workload.step(workload.n_steps - 1).graph
    commands = workload.n_steps * len(last)
    return Estimate(memory_bytes=commands * BYTES_PER_COMMAND, commands=commands,
                    memory_key="tokens" if workload.phase == "decode" else "prompt",
                    commands_key="tokens" if workload.phase == "decode" else "prompt",
                    detail=f"{workload.n_steps:,} steps x {len(last):,} ops")


def estimate(workload, spec, **options) -> Estimate:
    """The estimated state and work of mapping and simulating ``workload`` on ``spec``."""
    return (ESTIMATORS.get(spec.family) or default_estimate)(workload, spec, **options)


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check(workload, spec, limits: Limits | None = None, **options) -> Estimate:
    """Raise :class:`MappingError` if the run's estimate exceeds ``limits``; returns the estimate."""
    lim = (limits or Limits()).resolved()
    est = estimate(workload, spec, **options)
    what = f"{workload.model.name} {workload.phase} (prompt {workload.prompt}, tokens {workload.tokens}, " \
           f"batch {workload.batch}) on {spec.name}"
    if est.memory_bytes > lim.memory_bytes:
        raise MappingError(f"{what} needs an estimated {est.memory_bytes:,} bytes ({_gib(est.memory_bytes)}) of "
                           f"simulator state{f' ({est.detail})' if est.detail else ''}; the memory limit is "
                           f"{lim.memory_bytes:,} bytes ({_gib(lim.memory_bytes)}; --memory-limit)",
                           file=est.memory_file, key=est.memory_key)
    if est.commands > lim.commands:
        raise MappingError(f"{what} needs an estimated {est.commands:,} simulator commands"
                           f"{f' ({est.detail})' if est.detail else ''}; the work limit is {lim.commands:,} "
                           f"commands (--work-limit)", key=est.commands_key)
    return est


def weights_and_kv_bytes(workload) -> tuple[float, float]:
    """Bytes of the weights and of the KV cache at the workload's last step (the largest). Dense models: every
    parameter in the model's dtype (a tied LM head counted once); quantized ones: from the ops' formats."""
    from archsim.base.numerics import DTYPE_BITS

    def bits(fmt):
        return DTYPE_BITS.get(fmt, 16)

    last = workload.step(workload.n_steps - 1).graph
    weights = kv = 0.0
    for op in last.ops():
        if op.kind in ("gemm", "mpgemm"):
            weights += op.K * op.N * bits(op.w_dtype) / 8
        elif op.kind == "embedding":
            weights += op.vocab * op.dim * bits(op.dtype) / 8
        elif op.kind == "attention":
            kv += 2 * op.batch * op.n_kv_heads * op.kv_len * op.head_dim * bits(op.dtype) / 8
    cfg = workload.model
    if not cfg.quantized:
        weights = cfg.param_count() * bits(cfg.dtype) / 8
    return weights, kv


def check_device_memory(workload, spec, capacity_bytes: int, *, key: str, device: str) -> None:
    """Raise :class:`MappingError` if the weights plus the KV cache do not fit ``capacity_bytes``."""
    weights, kv = weights_and_kv_bytes(workload)
    need = weights + kv
    if need > capacity_bytes:
        raise MappingError(f"{workload.model.name} (batch {workload.batch}, {workload.prompt + workload.tokens} "
                           f"positions) needs {need:,.0f} bytes of weights ({weights:,.0f}) and KV cache "
                           f"({kv:,.0f}); {device} has a capacity of {capacity_bytes:,} bytes", file=spec.file,
                           key=key)
