"""Small inline SVG charts for the model card: our own drawing, so the card is one
self-contained file with no plotting library and no scripts."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

W, H, PAD = 360, 260, 44


def _axes(x_label: str, y_label: str) -> list[str]:
    return [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#333"/>',
        f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{H - PAD}" stroke="#333"/>',
        f'<text x="{(W + PAD) / 2}" y="{H - 8}" text-anchor="middle" font-size="12">{escape(x_label)}</text>',
        f'<text x="12" y="{H / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 12 {H / 2})">{escape(y_label)}</text>',
        f'<text x="{PAD}" y="{H - PAD + 14}" font-size="10" text-anchor="middle">0</text>',
        f'<text x="{W - 10}" y="{H - PAD + 14}" font-size="10" text-anchor="middle">1</text>',
        f'<text x="{PAD - 6}" y="14" font-size="10" text-anchor="end">1</text>',
    ]


def _xy(x: float, y: float) -> str:
    return f"{PAD + x * (W - 10 - PAD):.1f},{H - PAD - y * (H - PAD - 10):.1f}"


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[float], Sequence[float], str]],
    x_label: str,
    y_label: str,
    diagonal: bool = True,
) -> str:
    """Lines on the unit square: (name, xs, ys, colour) per series, with a legend."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img">',
             f"<title>{escape(title)}</title>", *_axes(x_label, y_label)]  # fmt: skip
    if diagonal:
        parts.append(
            f'<polyline points="{_xy(0, 0)} {_xy(1, 1)}" stroke="#aaa" stroke-dasharray="4" fill="none"/>'
        )
    for i, (name, xs, ys, colour) in enumerate(series):
        points = " ".join(
            _xy(min(max(a, 0), 1), min(max(b, 0), 1)) for a, b in zip(xs, ys, strict=True)
        )
        parts.append(
            f'<polyline points="{points}" stroke="{colour}" stroke-width="2" fill="none"/>'
        )
        parts.append(
            f'<text x="{W - 14}" y="{H - PAD - 12 - 14 * i}" font-size="11" text-anchor="end" fill="{colour}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float] | None = None,
    highs: Sequence[float] | None = None,
    as_percent: bool = True,
) -> str:
    """Horizontal bars with optional interval whiskers."""
    row = 20
    height = 20 + row * len(labels)
    top = max([*values, *(highs or [])] or [1.0]) or 1.0
    left, width = 190, 260
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{height}" role="img">',
             f"<title>{escape(title)}</title>"]  # fmt: skip
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + i * row
        length = width * value / top
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" font-size="11" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="#4a78b5"/>'
        )
        if lows is not None and highs is not None:
            x1, x2 = left + width * lows[i] / top, left + width * highs[i] / top
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y + row / 2}" x2="{x2:.1f}" y2="{y + row / 2}" stroke="#111"/>'
            )
        text = f"{value:.1%}" if as_percent else f"{value:.3f}"
        parts.append(f'<text x="{left + width + 8}" y="{y + 13}" font-size="11">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)
