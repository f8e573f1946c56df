"""PDQ perceptual hashes of images, decoded at reduced size where the format allows.

Why: PDQ downsamples every image to 64x64 before hashing, so decoding a 12-megapixel JPEG
at full size wastes most of the work. Pillow's JPEG ``draft`` mode lets the decoder scale by
1/2, 1/4 or 1/8 while decoding; we ask for at least ``DRAFT_SIZE`` pixels on each side,
which keeps the hash within a few bits of the full-decode hash (benchmarks/triage.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image

PDQ_BITS = 256
PDQ_BYTES = PDQ_BITS // 8
DRAFT_SIZE = 512
"""Smallest side the JPEG decoder is asked to keep (PDQ's own working size is 512)."""
MAX_PIXELS = 200_000_000
"""Images claiming more pixels than this are refused (decompression bombs)."""


@dataclass(frozen=True)
class PdqHash:
    hex: str
    quality: int
    """PDQ's quality in [0, 100]; below about 50 the hash says little (flat images)."""

    def bytes(self) -> bytes:
        return bytes.fromhex(self.hex)


def load_for_pdq(path: Path, *, reduced: bool = True) -> np.ndarray:
    """RGB pixels of ``path``; JPEGs decoded at reduced size when ``reduced``."""
    with Image.open(path) as image:
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(
                f"{path}: {image.width}x{image.height} is more than {MAX_PIXELS} pixels; "
                "refusing to decode it (possible decompression bomb)"
            )
        if reduced and image.format == "JPEG":
            image.draft("RGB", (DRAFT_SIZE, DRAFT_SIZE))
        rgb = image.convert("RGB")
        return np.asarray(rgb)


def pdq_of_pixels(pixels: np.ndarray) -> PdqHash:
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    return PdqHash(np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality))


def pdq_of_file(path: Path, *, reduced: bool = True) -> PdqHash:
    """PDQ of the image at ``path`` (raises OSError or ValueError for non-images)."""
    return pdq_of_pixels(load_for_pdq(path, reduced=reduced))


def hamming(a: str, b: str) -> int:
    """Bits that differ between two PDQ hashes in hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hashes_to_array(hexes: list[str]) -> np.ndarray:
    """(n, 32) uint8 array of PDQ hashes given in hex."""
    if not hexes:
        return np.zeros((0, PDQ_BYTES), dtype=np.uint8)
    joined = bytes.fromhex("".join(hexes))
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, PDQ_BYTES).copy()
