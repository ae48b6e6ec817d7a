"""`archsim reproduce ngpc --quick`: the claims appear, files are written, CSV columns are numeric."""

import pandas as pd

from archsim.cli import main
from archsim.reproduce.targets.ngpc import saturation


def test_saturation_is_the_first_size_that_stops_growing():
    assert saturation({8: 10, 16: 20, 32: 21, 64: 21.5}) == 16
    assert saturation({8: 10, 16: 20, 32: 40, 64: 80}) == 64


def test_reproduce_quick(tmp_path, capsys):
    assert main(["reproduce", "ngpc", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for claim in ("average speedup over RTX 3090, hashgrid, NGPC-8", "encoding kernel speedup",
                  "MLP kernel speedup", "DRAM bandwidth used", "area over RTX 3090, NGPC-64",
                  "power over RTX 3090, NGPC-8", "frame rate"):
        assert claim in out
    d = tmp_path / "ngpc"
    for f in ("claims.csv", "speedup.csv", "saturation.csv", "frame_rates.csv", "area_power.csv", "speedup.png"):
        assert (d / f).stat().st_size > 0, f
    sp = pd.read_csv(d / "speedup.csv")
    assert sp["speedup"].dtype == float and (sp["speedup"] > 0).all()
    for app in ("nerf", "gia"):
        s = sp[sp.app == app].sort_values("nfps")["speedup"]
        assert s.is_monotonic_increasing
    claims = pd.read_csv(d / "claims.csv")
    assert claims["model_low"].notna().all()
