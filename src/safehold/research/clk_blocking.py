"""Blocking keys for CLKs: λ-fold Hamming LSH (Karapiperis and Verykios, 2015).

A CLK hides the name and date of birth it encodes, so there is no coarse key to block on.
Instead each of ``bands`` blocking groups samples ``bits`` fixed positions of the filter
(drawn once from a seeded generator) and uses the bits found there as a key: two filters
that differ in a share ``h`` of their positions share a group's key with probability
``(1 - h) ** bits``, so near-identical filters (the same person, a typo apart) meet in at
least one group almost surely, while unrelated filters rarely meet. A group whose sampled
bits are all zero gives no key (nearly empty filters would otherwise all meet there).

Each group's key is its own column (``lsh_0`` ...), null where the group gives no key, so
that linkage blocks on each with a plain equi-join. One list of keys per record, exploded
for the join, would be the same candidate pairs, but Splink materialises the explosion with
every other blocking column beside each key: at 5,000,000 accounts that is 120,000,000 rows,
which ran out of DuckDB's memory limit."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

BANDS = 24
BITS_PER_BAND = 24


def clk_bytes(clks: pl.Series, length_bytes: int = 128) -> npt.NDArray[np.uint8]:
    """Base64 CLKs as a (n, length_bytes) byte matrix; a missing CLK is all zeros."""
    try:
        raw = clks.str.decode("base64")
    except pl.exceptions.ComputeError:
        raise ValueError("a CLK is not valid base64") from None
    lengths = raw.bin.size().fill_null(length_bytes)
    if (lengths != length_bytes).any():
        row = int((lengths != length_bytes).arg_max() or 0)
        raise ValueError(f"row {row}: CLK has {lengths[row]} bytes, expected {length_bytes}")
    filled = raw.fill_null(bytes(length_bytes)).to_arrow()
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    offsets = np.frombuffer(
        filled.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(filled.type) else np.int32
    )
    data = np.frombuffer(filled.buffers()[2], dtype=np.uint8)
    first = int(offsets[filled.offset])
    return data[first : first + len(clks) * length_bytes].reshape(len(clks), length_bytes)


def band_positions(seed: int, bands: int, bits: int, length_bits: int) -> npt.NDArray[np.int64]:
    """(bands, bits) sampled bit positions, distinct within a band."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(length_bits, size=bits, replace=False) for _ in range(bands)])


def band_columns(bands: int) -> list[str]:
    """The names of the key columns, one per band."""
    return [f"lsh_{band}" for band in range(bands)]


def lsh_keys(matrix: npt.NDArray[np.uint8], positions: npt.NDArray[np.int64]) -> pl.DataFrame:
    """Per row, one key per band (column ``lsh_<band>``): the bits found at the band's
    sampled positions, null where none of them is set."""
    bands, bits = positions.shape
    if bits > 64:
        raise ValueError("at most 64 bits per band (keys are 64-bit integers)")
    keys = np.zeros((matrix.shape[0], bands), dtype=np.int64)
    width = (bits + 7) // 8
    for start in range(0, matrix.shape[0], 20_000):
        bits_set = np.unpackbits(matrix[start : start + 20_000], axis=1)  # big-endian, as CLKs
        packed = np.packbits(bits_set[:, positions], axis=2)  # (rows, bands, width)
        wide = np.zeros((packed.shape[0], bands, 8), dtype=np.uint8)
        wide[:, :, 8 - width :] = packed
        keys[start : start + 20_000] = wide.view(">u8")[:, :, 0].astype(np.int64)
    present = keys != 0
    columns = {
        name: pa.array(keys[:, band], mask=~present[:, band])
        for band, name in enumerate(band_columns(bands))
    }
    frame = pl.from_arrow(pa.table(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame
