"""Benign generated pictures for hashing and triage tests: blurred coloured ellipses on a
plain ground with a little noise, and the edits (re-encode, resize, crop) that turn a
"known" picture into a near-duplicate.

Why: triage must be tested on images without ever using real pictures; shapes like these
hash like photographs (smooth regions, edges) so PDQ behaves as it does on real data.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def shapes_image(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A deterministic picture of ``shapes`` for ``seed``."""
    rng = np.random.default_rng(seed)
    ground = tuple(int(c) for c in rng.integers(0, 256, 3))
    image = Image.new("RGB", (width, height), ground)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(14, 28))):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(max(8, width // 16), max(9, width // 4)))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
    image = image.filter(ImageFilter.GaussianBlur(max(1.0, width / 160)))
    noise = rng.integers(-10, 11, (height, width, 3))
    pixels = (np.asarray(image).astype(np.int16) + noise).clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def edited(image: Image.Image, edit: str) -> Image.Image:
    """A near-duplicate of ``image``: 'resize' (to 60%), 'crop' (1% off each edge) or
    're-encode' (returned unchanged; save it at a lower JPEG quality)."""
    if edit == "resize":
        return image.resize((int(image.width * 0.6), int(image.height * 0.6)))
    if edit == "crop":
        dx, dy = int(image.width * 0.01), int(image.height * 0.01)
        return image.crop((dx, dy, image.width - dx, image.height - dy))
    if edit == "re-encode":
        return image
    raise ValueError(f"unknown edit {edit!r}; use resize, crop or re-encode")
