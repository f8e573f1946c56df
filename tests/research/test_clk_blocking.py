"""LSH blocking keys: one column per band, null exactly where the band's sampled bits are
all zero (so nearly empty filters do not all meet there), equal keys for equal bits."""

from __future__ import annotations

import numpy as np

from safehold.research.clk_blocking import band_columns, band_positions, lsh_keys


def test_a_key_per_band_null_where_its_bits_are_all_zero() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 256, (50, 128), dtype=np.uint8) & rng.integers(
        0, 256, (50, 128), dtype=np.uint8
    )
    matrix[0] = 0  # an empty filter: no key at all
    matrix[1] = matrix[2]  # identical filters: every key shared
    positions = band_positions(seed=1, bands=6, bits=8, length_bits=1024)
    keys = lsh_keys(matrix, positions)
    assert keys.columns == band_columns(6)
    assert keys.row(0) == (None,) * 6
    assert keys.row(1) == keys.row(2)
    bits = np.unpackbits(matrix, axis=1)
    for band, column in enumerate(keys.columns):
        sampled = bits[:, positions[band]]
        expected = sampled @ (1 << np.arange(7, -1, -1))
        got = keys[column].to_numpy()
        empty = expected == 0
        assert np.isnan(got[empty]).all()
        assert (got[~empty] == expected[~empty]).all()
