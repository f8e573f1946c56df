"""Comparing CLKs: the Dice coefficient that probabilistic linkage scores them with."""

from __future__ import annotations

import base64
import binascii
import contextlib


def _bits(clk: str) -> tuple[int, int]:
    raw = None
    # Reported below, unchained: library messages may quote the value.
    with contextlib.suppress(binascii.Error, ValueError):
        raw = base64.b64decode(clk, validate=True)
    if raw is None:
        raise ValueError("CLK is not valid base64")
    return int.from_bytes(raw, "big"), len(raw)


def dice_similarity(clk_a: str, clk_b: str) -> float:
    """Dice coefficient ``2|A∩B| / (|A|+|B|)`` of two base64 CLKs of equal length.

    Two empty filters score 0.0 (nothing in common is evidence of nothing), as in anonlink."""
    a, len_a = _bits(clk_a)
    b, len_b = _bits(clk_b)
    if len_a != len_b:
        raise ValueError(f"CLKs differ in length ({len_a} and {len_b} bytes)")
    total = a.bit_count() + b.bit_count()
    if total == 0:
        return 0.0
    return 2 * (a & b).bit_count() / total
