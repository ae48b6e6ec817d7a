"""RTL test helpers: the system tools (Icarus Verilog, Verilator, Yosys). A test that needs a missing tool is
skipped with the install command, and the end of the run lists what was skipped and how to install it. With the
environment variable CI set (``.ci/run`` installs the tools), a missing tool fails the test instead."""

import os
import shutil

import pytest

from archsim.rtl.harness import TOOL_HINTS

_SKIPPED: dict[str, int] = {}


def need_tool(tool: str) -> None:
    if shutil.which(tool) is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is required in CI (.ci/run installs it: {TOOL_HINTS[tool]})")
    _SKIPPED[tool] = _SKIPPED.get(tool, 0) + 1
    pytest.skip(f"{tool} not installed; install it with `{TOOL_HINTS[tool]}`")


@pytest.fixture
def tool():
    return need_tool


def pytest_terminal_summary(terminalreporter):
    if _SKIPPED:
        terminalreporter.write_sep("=", "RTL tests skipped for missing system tools")
        for tool, n in sorted(_SKIPPED.items()):
            terminalreporter.write_line(f"{n} test(s) need {tool}: install it with `{TOOL_HINTS[tool]}` "
                                        f"(Debian/Ubuntu; .ci/run does this in CI)")
