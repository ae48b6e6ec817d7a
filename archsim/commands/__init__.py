"""CLI subcommands. Each module has ``register(subparsers)`` that adds its parser and sets ``func``.

To add a subcommand, write a module here and append it to :data:`COMMAND_MODULES`.
"""

from archsim.commands import dram, info, report, reproduce, rtl, run, sweep

COMMAND_MODULES = [info, run, sweep, report, reproduce, dram, rtl]
