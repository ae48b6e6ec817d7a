"""The ``archsim`` command line. Subcommands live in :mod:`archsim.commands`, one module each.

A user mistake (an :class:`~archsim.base.errors.ArchsimError`) prints one line to stderr and exits with status 2;
there is never a traceback for one. ``ARCHSIM_DEBUG=1`` re-raises for developers.
"""

from __future__ import annotations

import argparse
import os
import sys

from archsim.base.errors import ArchsimError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors also exit 2, on one line
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from archsim.commands import COMMAND_MODULES

    parser = _Parser(prog="archsim", description="Model hardware accelerators: architectures, workloads, "
                     "cycle-accurate simulation, paper reproduction.")
    parser.add_argument("--version", action="version", version="archsim 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help/--version (0) return instead of exiting
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from archsim.progress import end_all

    try:
        rc = args.func(args)
    except ArchsimError as exc:
        end_all()  # a progress line ends before the error is printed
        if os.environ.get("ARCHSIM_DEBUG"):
            raise
        print(f"archsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        end_all()
        print("archsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        end_all()
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
