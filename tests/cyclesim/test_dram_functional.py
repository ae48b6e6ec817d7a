"""The data model of the PIM memory (cyclesim.dram.functional): each op's data effect against a hand-computed
value (small integers, exact in bf16 and fp32)."""

import numpy as np
import pytest

from archsim.base.errors import SimulationError
from archsim.cyclesim.dram.functional import PimMemory, tree16
from archsim.cyclesim.dram.program import (DramBlock, DramRepeat, SYNC, mac_abk, mac_sbk, rd_mac, rd_sbk, wr_bias,
                                           wr_gb, wr_sbk)


def mem(**kw):
    args = dict(channels=2, banks=4, rows=8, row_elems=64, access_elems=16, gb_elems=64)
    args.update(kw)
    return PimMemory(**args)


def test_mac_abk_is_the_dot_product_of_the_row_columns_with_the_buffer_in_every_bank():
    m = mem()
    rng = np.random.default_rng(1)
    w = rng.integers(-4, 5, (2, 4, 64)).astype(np.float32)
    x = rng.integers(-4, 5, (2, 32)).astype(np.float32)
    m.store(slice(None), slice(None), 3, 0, w)
    # columns 2..3 of row 3 meet GB columns 0..1 (op-relative)
    out = m.execute([[wr_gb(2), mac_abk(3, 2, 2), rd_mac()], [wr_gb(2), mac_abk(3, 2, 2), rd_mac()]],
                    writes=[[x[0]], [x[1]]])
    for c in range(2):
        expect = w[c, :, 32:64] @ x[c]
        assert np.array_equal(out[c][0], expect)


def test_a_mac_that_runs_past_the_row_continues_on_the_next_row_and_rd_mac_clears():
    m = mem(channels=1)
    w = np.arange(128, dtype=np.float32).reshape(1, 1, 128) % 7
    m.store(0, slice(None), 2, 0, np.broadcast_to(w[0, 0], (4, 128)))  # rows 2 and 3
    x = np.ones(32, np.float32)
    out = m.execute([[wr_gb(2), mac_abk(2, 3, 2), rd_mac(), mac_abk(2, 3, 2), rd_mac()]], writes=[[x]])
    expect = float(w[0, 0, 48:80].sum())  # column 3 of row 2 then column 0 of row 3
    assert out[0][0].tolist() == [expect] * 4 and out[0][1].tolist() == out[0][0].tolist()  # cleared between


def test_wr_bias_initialises_the_accumulators_and_blocks_and_repeats_expand():
    m = mem(channels=1, banks=2)
    m.store(0, slice(None), 0, 0, np.ones((2, 64 * 3), np.float32))  # rows 0..2 all ones
    x = np.full(16, 2.0, np.float32)
    tile = DramBlock([mac_abk(0, 0, 1), rd_mac()], row_base=0)
    out = m.execute([[wr_gb(1), wr_bias(), DramRepeat(tile, 3, 0, 1), SYNC]], writes=[[x, [5.0, -1.0]]])
    assert [r.tolist() for r in out[0]] == [[37.0, 31.0], [32.0, 32.0], [32.0, 32.0]]


def test_single_bank_ops_and_masked_writes():
    m = mem(channels=1)
    vals = np.arange(16, dtype=np.float32)
    mask = np.zeros(16, bool)
    mask[5] = True
    out = m.execute([[wr_sbk(1, 4, 1, 1), wr_sbk(1, 4, 1, 1), rd_sbk(1, 4, 1, 1), wr_gb(1), mac_sbk(1, 4, 1, 1),
                      rd_mac()]],
                    writes=[[vals, (np.full(16, 9.0, np.float32), mask), np.ones(16, np.float32)]])
    expect = vals.copy()
    expect[5] = 9.0
    assert out[0][0].tolist() == expect.tolist()
    assert out[0][1].tolist() == [0.0, float(expect.sum()), 0.0, 0.0]


def test_values_are_stored_in_bf16_and_bf16_accumulation_rounds_every_column():
    m = mem(channels=1, banks=1, accum="bf16")
    m.store(0, 0, 0, 0, np.full(64, 1.0 + 2 ** -10, np.float32))  # rounds to 1.0 in bf16
    assert m.load(0, 0, 0, 0, 1)[0] == 1.0
    m.store(0, 0, 1, 0, np.concatenate([np.full(16, 256.0 / 16), np.full(16, 1 / 16)]).astype(np.float32))
    out = m.execute([[wr_gb(2), mac_abk(1, 0, 2), rd_mac()]], writes=[[np.ones(32, np.float32)]])
    assert out[0][0][0] == 256.0  # 256 + 1 = 257 is not a bf16 value (8 mantissa bits): rounds back to 256
    assert tree16(np.arange(16, dtype=np.float32)) == 120.0


def test_missing_or_wrong_write_data_and_a_buffer_overrun_are_errors():
    with pytest.raises(SimulationError, match="WR_GB on channel 0: the host has no more write data"):
        mem(channels=1).execute([[wr_gb(1)]])
    with pytest.raises(SimulationError, match="write data of 3 values, expected 16"):
        mem(channels=1).execute([[wr_gb(1)]], writes=[[[1, 2, 3]]])
    with pytest.raises(SimulationError, match="past the 4-column global buffer"):
        mem(channels=1).execute([[wr_gb(5)]], writes=[[np.zeros(80)]])


def test_copies_between_a_bank_row_and_the_global_buffer():
    from archsim.cyclesim.dram.program import copy_bkgb, copy_gbbk
    m = mem(channels=1)
    vals = np.arange(32, dtype=np.float32)
    m.store(0, 2, 6, 16, vals)                               # columns 1..2 of row 6, bank 2
    out = m.execute([[copy_bkgb(2, 6, 1, 2), copy_gbbk(3, 1, 2, 2), rd_sbk(3, 1, 2, 2)]])
    assert m.gb[0, :32].tolist() == vals.tolist() and out[0][0].tolist() == vals.tolist()
