"""Guards instead of runaway memory: a run whose estimated state or work is over the limits is refused before it
starts, naming the limit and the estimate; GPU baselines refuse weights + KV cache beyond device memory."""

import subprocess
import sys
import tracemalloc

import pytest

import archsim
from archsim import arch
from archsim.base.errors import MappingError
from archsim.mapper import guard
from archsim.mapper.guard import Limits


def test_billion_channels_refused_by_memory_limit():
    spec = arch.load("pim_gpt", set={"dram.channels": 1_000_000_000})
    w = archsim.workload("gpt2-small")
    with pytest.raises(MappingError) as e:
        guard.check(w, spec, Limits(memory_bytes=24 * 10**9))
    msg = str(e.value)
    assert e.value.key == "components.dram.channels" and e.value.file == spec.file
    assert "memory limit is 24,000,000,000 bytes" in msg
    est = guard.estimate(w, spec)
    # every channel holds at least its timing array (one 8-byte slot per rule) and its counters
    assert est.memory_bytes >= 1_000_000_000 * 8 * (16 * 17)
    assert f"{est.memory_bytes:,} bytes" in msg


def test_billion_tokens_refused_by_work_limit():
    w = archsim.workload("gpt2-small", tokens=1_000_000_000)
    with pytest.raises(MappingError) as e:
        guard.check(w, arch.load("pim_gpt"))
    # 1e9 tokens x (6 + 19 x 12 layers) commands per token
    assert e.value.key == "tokens"
    assert f"{1_000_000_000 * (6 + 19 * 12):,} simulator commands" in str(e.value)
    assert "work limit is 1,000,000,000 commands" in str(e.value)


def test_billion_tokens_on_a_gpu_refused():
    w = archsim.workload("gpt2-small", tokens=1_000_000_000)
    with pytest.raises(MappingError, match="memory limit|work limit"):
        archsim.simulate("t4", w)


def test_cli_refuses_runaway_runs_on_one_line():
    for extra in (["--set", "dram.channels=1000000000"], ["--tokens", "1000000000"]):
        p = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "--arch", "pim_gpt", "--workload",
                            "gpt2-small", *extra], capture_output=True, text=True, timeout=120)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("archsim: error: ") and "limit" in lines[0]


def test_limits_are_parameters():
    w = archsim.workload("gpt2-small", tokens=4)
    spec = arch.load("pim_gpt")
    chain = 6 + 19 * 12
    assert guard.check(w, spec, Limits(commands=4 * chain)).commands == 4 * chain
    with pytest.raises(MappingError, match=f"work limit is {4 * chain - 1:,}"):
        guard.check(w, spec, Limits(commands=4 * chain - 1))
    with pytest.raises(MappingError, match="memory limit is 1,000 bytes"):
        archsim.simulate(spec, w, limits=Limits(memory_bytes=1000))
    default = Limits().resolved()
    assert default.memory_bytes == int(guard.physical_memory_bytes() * 0.75)
    assert default.commands == 1_000_000_000


def test_legitimate_large_run_passes_the_guard():
    """GPT-2 XL, 1,024 generated tokens on PIM-GPT (the benchmark run) is estimated, not run."""
    w = archsim.workload("gpt2-xl", tokens=1024)
    est = guard.check(w, arch.load("pim_gpt"), Limits(memory_bytes=24 * 10**9))
    assert est.commands == 1024 * (6 + 19 * 48)
    assert est.memory_bytes < 10**9


def test_channel_estimate_covers_the_real_state():
    """The per-channel estimate is at least what the DRAM model really allocates per channel (and not wildly
    above it)."""
    from archsim.cyclesim.dram import DramSystem

    w = archsim.workload("gpt2-small")
    small, big = (arch.load("pim_gpt", set={"dram.channels": n}) for n in (1, 1025))
    DramSystem(small)  # warm caches
    used = []
    for spec in (small, big):
        tracemalloc.start()
        d = DramSystem(spec)
        used.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        del d
    real_per_channel = (used[1] - used[0]) / 1024
    est_per_channel = (guard.estimate(w, big).memory_bytes - guard.estimate(w, small).memory_bytes) / 1024
    assert real_per_channel <= est_per_channel <= 4 * real_per_channel


def test_gpu_refuses_what_does_not_fit_device_memory():
    w = archsim.workload("gpt2-small", batch=10**12)
    with pytest.raises(MappingError) as e:
        archsim.simulate("t4", w)
    # KV cache: 2 (K, V) x batch x layers x positions x d_model x 2 bytes (fp16); weights: parameters x 2 bytes
    kv = 2 * 10**12 * 12 * 65 * 768 * 2
    weights = 124_439_808 * 2
    msg = str(e.value)
    assert e.value.key == "components.gpu.memory_bytes"
    assert f"needs {kv + weights:,} bytes" in msg and "capacity of 17,179,869,184 bytes" in msg


def test_gpu_accepts_what_fits():
    r = archsim.simulate("t4", "gpt2-small", batch=8, tokens=2)
    assert r.cycles > 0
    # the same run on a T4 with too little memory for the weights (124M fp16 parameters = 249 MB)
    with pytest.raises(MappingError, match="capacity of 200,000,000 bytes"):
        archsim.simulate("t4", "gpt2-small", set={"gpu.memory_bytes": 200_000_000})
