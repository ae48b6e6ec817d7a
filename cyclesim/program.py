"""The mapper's output and the simulator's input: commands per engine with dependencies, no timing.

A :class:`Program` is a sequence of :class:`Block` objects separated by barriers (every engine drains before the
next block starts). A block's ``key`` says which blocks are identical: two blocks with the same key, started
from the same (quiescent) engine state, take the same time and produce the same counters, so the simulator
runs the first and reuses its result for the rest (burst mode). A block with ``key=None`` is always simulated.

Commands are plain data: which engine, what operation, the amount of work as numbers (``flops``, ``bytes``,
``elements`` ...), and the indices (within the block) of the commands it waits for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Iterator

from archsim.base.errors import SimulationError


@dataclass(slots=True)
class Command:
    engine: str
    op: str
    work: dict[str, Any]
    deps: tuple[int, ...] = ()
    label: str = ""


@dataclass(slots=True)
class Block:
    commands: list[Command]
    key: Hashable | None = None
    label: str = ""
    offsets: dict[str, Any] | None = None   # per stateful engine: this block's translation (see the module doc)
    make: Callable[[], list[Command]] | None = None   # a lazy block: builds ``commands`` on first need
    size: int = 0                                      # a lazy block's number of commands

    def materialize(self) -> list[Command]:
        """The commands (a lazy block builds them now; a block the simulator reuses never needs them)."""
        if self.make is not None:
            self.commands = self.make()
            self.make = None
        return self.commands

    def count(self) -> int:
        return self.size if self.make is not None else len(self.commands)

    def add(self, engine: str, op: str, work: dict[str, Any], deps: Iterable[int] = (), label: str = "") -> int:
        """Append a command; returns its index for use in later ``deps``."""
        deps = tuple(deps)
        n = len(self.commands)
        for d in deps:
            if not 0 <= d < n:
                raise SimulationError(f"block {self.label!r}: command {n} depends on {d}, which is not before it")
        self.commands.append(Command(engine, op, work, deps, label or op))
        return n


@dataclass
class Program:
    """``engines`` maps an engine name in the program to the component path in the architecture spec."""

    engines: dict[str, str]
    blocks: list[Block] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def block(self, key: Hashable | None = None, label: str = "") -> Block:
        b = Block([], key, label)
        self.blocks.append(b)
        return b

    def commands(self) -> Iterator[Command]:
        for b in self.blocks:
            yield from b.materialize()

    def __len__(self) -> int:
        return sum(b.count() for b in self.blocks)

    def validate(self) -> None:
        for b in self.blocks:
            for c in b.materialize():
                if c.engine not in self.engines:
                    raise SimulationError(f"command {c.label!r} runs on unknown engine {c.engine!r}; "
                                          f"program engines: {', '.join(self.engines)}")
