"""Design-space exploration: sweep specs, a content-addressed result store, executors, Pareto fronts, reports.

    import archsim
    df = archsim.sweep("pim_gpt", {"dram.channels": [4, 8]}, workloads=[{"model": "gpt2-small", "tokens": 2}],
                       out="reports/ch.parquet", jobs=2)
"""

from archsim.dse.pareto import pareto_front  # noqa: F401
from archsim.dse.runner import SweepRun, run_sweep, sweep  # noqa: F401
from archsim.dse.spec import SweepSpec, load_sweep  # noqa: F401
