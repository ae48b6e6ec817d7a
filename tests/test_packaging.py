"""archsim installs under one import root: a wheel puts only ``archsim`` into site-packages, so it coexists with
unrelated packages named ``arch``, ``mapper``, ... (``arch`` is a widely used econometrics package on PyPI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"archsim": "archsim", "arch": "archsim.arch", "workloads": "archsim.workloads",
           "mapper": "archsim.mapper", "cyclesim": "archsim.cyclesim", "rtl": "archsim.rtl"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_package_list_matches_the_tree():
    """Every folder with an __init__.py is listed (a missing one would be absent from the wheel)."""
    tool = _pyproject()["tool"]["setuptools"]
    assert tool["package-dir"] == {name: folder for folder, name in FOLDERS.items()}
    expected = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            expected.add(".".join([name, *rel]))
    listed = set(tool["packages"]) - {"archsim.arch.specs"}  # data-only package (the YAML specs)
    assert listed == expected


def _copy_source(dst: Path) -> None:
    """The files a clean clone has (build artefacts of this checkout stay behind)."""
    skip = shutil.ignore_patterns(".git", ".venv", "build", "reports", "*.egg-info", "__pycache__", ".pytest_cache",
                                  ".hypothesis", "dist")
    shutil.copytree(ROOT, dst, ignore=skip)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src") / "archsim"
    _copy_source(src)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        if not os.environ.get("CI") and "network" in (proc.stderr + proc.stdout).lower():
            pytest.skip(f"building a wheel needs setuptools from the package index: {proc.stderr.strip()[-200:]}")
        raise AssertionError(proc.stdout + proc.stderr)
    (whl,) = out.glob("archsim-*.whl")
    return whl


def test_wheel_holds_only_the_archsim_root(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"archsim", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    assert "archsim/arch/specs/pim_gpt.yaml" in names  # the shipped descriptions are package data
    assert "archsim/cyclesim/dram/engine.py" in names


def test_wheel_installs_beside_an_unrelated_arch_package(wheel, tmp_path):
    """A fresh environment already holding a top-level ``arch`` package: after installing archsim both work,
    and a short simulation runs from an unrelated working directory."""
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    # the unrelated package, as another project would have installed it
    (site / "arch").mkdir()
    (site / "arch" / "__init__.py").write_text("ECONOMETRICS = 'unrelated arch package'\n")
    # archsim's dependencies come from the test environment (appended after the new site-packages, so the
    # wheel's own files and the unrelated arch package take precedence; .pth files there are not run)
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--quiet",
                    "--no-index", str(wheel)], check=True, capture_output=True, text=True, timeout=300)

    installed = sorted(p.name for p in site.iterdir() if not p.name.endswith(".pth") and p.name != "__pycache__"
                       and not p.name.startswith("_"))
    assert installed == ["arch", "archsim", f"archsim-{wheel.name.split('-')[1]}.dist-info"], installed

    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = ("import arch, archsim, archsim.arch, json\n"
             "from archsim import simulate\n"
             "r = simulate('t4', 'gpt2-small', prompt=4, tokens=1)\n"
             "print(json.dumps({'arch': arch.ECONOMETRICS, 'specs': archsim.arch.__file__, 'cycles': r.cycles}))\n")
    out = subprocess.run([str(py), "-c", probe], cwd=work, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": ""})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["arch"] == "unrelated arch package"
    assert got["specs"].startswith(str(site / "archsim" / "arch"))
    assert got["cycles"] > 0
    cli = subprocess.run([str(env_dir / "bin" / "archsim"), "validate", "pim_gpt"], cwd=work, capture_output=True,
                         text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr

