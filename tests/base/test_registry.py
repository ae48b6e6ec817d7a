"""The Registry helper: registration, duplicates, and look-ups from several threads during the first import."""

from __future__ import annotations

import sys
import threading

import pytest

from archsim.base.registry import Registry


def test_register_get_names_and_duplicates():
    reg: Registry[int] = Registry("thing")
    reg.register("a", "b")(1)
    assert reg.get("a") == 1 and reg.get("b") == 1 and reg.get("c") is None and reg.get(3) is None
    assert reg.names() == ["a", "b"] and "a" in reg and "c" not in reg
    reg.add("a", 1)  # the same object again is not a duplicate
    with pytest.raises(ValueError, match="thing 'a' is registered twice"):
        reg.add("a", 2)


def test_a_second_thread_waits_for_the_first_import(tmp_path, monkeypatch):
    """While one thread imports a registry's package (slowly), another thread's look-up must see every entry,
    not the half-filled table (a Dask worker's threads raced like this)."""
    pkg = tmp_path / "slowpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from archsim.base.registry import Registry\n"
                                     "REG = Registry('slow thing', package='slowpkg')\n")
    (pkg / "a_first.py").write_text("from slowpkg import REG\nREG.add('first', 1)\n"
                                    "import time\ntime.sleep(0.3)\n")
    (pkg / "b_second.py").write_text("from slowpkg import REG\nREG.add('second', 2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import slowpkg

    seen = {}
    started = threading.Event()

    def first():
        started.set()
        seen["first"] = slowpkg.REG.names()

    def second():
        started.wait()
        seen["second"] = slowpkg.REG.names()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in ("slowpkg", "slowpkg.a_first", "slowpkg.b_second"):
        sys.modules.pop(name, None)
    assert seen == {"first": ["first", "second"], "second": ["first", "second"]}
