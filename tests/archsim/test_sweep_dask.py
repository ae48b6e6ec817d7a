"""The Dask executor on a LocalCluster the test starts (loopback only) gives the local executor's table."""

import pandas as pd
import pytest

import archsim

distributed = pytest.importorskip("distributed")

AXES = {"gpu.memory_bw_gb_per_s": [160, 320, 640], "gpu.kernel_overhead_us": [1, 10]}
WL = [{"model": "gpt2-small", "prompt": 8, "tokens": 2}, {"model": "gpt2-small", "prompt": 8, "tokens": 3}]


def test_dask_local_cluster_equals_local_executor(tmp_path):
    local = archsim.sweep("t4", AXES, workloads=WL, jobs=2, store=tmp_path / "local.sqlite")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = archsim.sweep("t4", AXES, workloads=WL, executor="dask", scheduler=cluster.scheduler_address,
                               store=tmp_path / "dask.sqlite", out=tmp_path / "dask.parquet")
        assert cluster.scheduler.transition_counter >= 12  # the points really went through the scheduler
    assert len(local) == 12
    pd.testing.assert_frame_equal(local, remote)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask.parquet"), local)


@pytest.mark.slow  # the client retries until its 20 s timeout
def test_unreachable_scheduler_is_a_user_error(tmp_path):
    with pytest.raises(archsim.ArchsimError, match="--scheduler: cannot reach"):
        archsim.sweep("t4", {"gpu.memory_bw_gb_per_s": [160]}, workloads=WL, executor="dask",
                      scheduler="tcp://127.0.0.1:9", store=tmp_path / "s.sqlite")
