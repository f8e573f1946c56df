"""PDQ near-duplicate search up to Hamming distance 31 by multi-index hashing.

Why: brute force reads every stored hash for every query. Split the 256 bits into ``m``
blocks: two hashes within distance ``r`` differ in at most ``r // m`` bits in at least one
block (pigeonhole), so probing, in every block, each value within ``r // m`` bits of the
query's block finds every match; only those few candidates are compared in full. The result
is exact, not approximate (tests check it against ``brute_force`` and faiss).

The number of blocks trades probes against candidates. Sixteen 16-bit blocks need 17 probes
per block at radius 31 but each probe's bucket holds ``n / 65,536`` hashes: 41,000
candidates per query over 10 million. Eleven blocks of 23 or 24 bits need about 280 probes
per block (values within two bits) and each bucket holds ``n / 2^23``: about 3,000
candidates over 10 million, each read once, from one cache line. Dense bucket tables cost
``4 * 2^bits`` bytes per block, so small indexes (hash sets of a few thousand) use sixteen
blocks (4 MB) and large ones eleven (about 470 MB, plus 44 bytes per stored hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np

from safehold.hashing.pdq import PDQ_BYTES

PDQ_BITS = PDQ_BYTES * 8
MAX_RADIUS = 31
"""The largest radius searched (PDQ's usual match threshold); exact at every radius up to it."""
LARGE_INDEX = 1_000_000
"""From this many stored hashes on, the index uses eleven wide blocks instead of sixteen."""
_WORD_BITS = 64


@dataclass(frozen=True)
class Match:
    query: int
    """Row of the query in the query array."""
    item: int
    """Row of the stored hash in the index."""
    distance: int


def _as_words(hashes: np.ndarray) -> np.ndarray:
    """(n, 4) uint64 view of (n, 32) uint8 hashes (bit ``i`` is bit ``i % 64`` of word
    ``i // 64``: any fixed numbering serves, since queries and stored hashes share it)."""
    if hashes.ndim != 2 or hashes.shape[1] != PDQ_BYTES or hashes.dtype != np.uint8:
        raise ValueError(f"PDQ hashes must be an (n, {PDQ_BYTES}) uint8 array, got {hashes.shape}")
    return np.ascontiguousarray(hashes).view(np.uint64)


def _widths(blocks: int) -> list[int]:
    base, extra = divmod(PDQ_BITS, blocks)
    return [base + 1] * extra + [base] * (blocks - extra)


def _block_values(words: np.ndarray, start: int, width: int) -> np.ndarray:
    """Bits ``start .. start + width`` of each hash as one unsigned integer (uint64)."""
    word, offset = divmod(start, _WORD_BITS)
    values = words[:, word] >> np.uint64(offset)
    if offset + width > _WORD_BITS:
        values = values | (words[:, word + 1] << np.uint64(_WORD_BITS - offset))
    return values & np.uint64((1 << width) - 1)


@cache
def _flip_masks(width: int, flips: int) -> np.ndarray:
    """Every mask of at most ``flips`` set bits among ``width`` (0 first)."""
    masks = [0]
    for k in range(1, flips + 1):
        masks += [sum(1 << bit for bit in bits) for bits in combinations(range(width), k)]
    return np.array(masks, dtype=np.uint64)


class PdqIndex:
    """Exact range search over PDQ hashes (radius up to 31). ``blocks`` (11 to 16) is
    chosen from the index size unless given."""

    def __init__(self, hashes: np.ndarray, *, blocks: int | None = None) -> None:
        self._words = _as_words(hashes)
        self.hashes = self._words.view(np.uint8).reshape(-1, PDQ_BYTES)
        n = len(self._words)
        self.size = n
        chosen = blocks if blocks is not None else (11 if n >= LARGE_INDEX else 16)
        if not 11 <= chosen <= 16:
            raise ValueError(
                f"blocks must be 11 to 16 (bucket tables of 2^16 to 2^24), got {chosen}"
            )
        self.blocks = chosen
        self._widths = _widths(chosen)
        self._starts_at = np.cumsum([0, *self._widths[:-1]]).tolist()
        position = np.int32 if n < 2**31 else np.int64
        # Per block: stored rows sorted by that block's value, and where each value starts.
        self._items: list[np.ndarray] = []
        self._starts: list[np.ndarray] = []
        for start, width in zip(self._starts_at, self._widths, strict=True):
            values = _block_values(self._words, start, width)
            order = np.argsort(values, kind="stable").astype(position)
            counts = np.bincount(values.astype(np.int64), minlength=1 << width)
            starts = np.zeros((1 << width) + 1, dtype=position)
            np.cumsum(counts, out=starts[1:])
            self._items.append(order)
            self._starts.append(starts)

    @property
    def nbytes(self) -> int:
        """Memory held by the index, the stored hashes included."""
        tables = sum(a.nbytes for a in (*self._items, *self._starts))
        return int(self._words.nbytes + tables)

    def search(
        self, queries: np.ndarray, radius: int = MAX_RADIUS, *, batch: int = 256
    ) -> list[Match]:
        """Every (query, stored) pair within ``radius``, sorted by query then distance."""
        if not 0 <= radius <= MAX_RADIUS:
            raise ValueError(f"radius must be between 0 and {MAX_RADIUS}, got {radius}")
        query_words = _as_words(queries)
        if self.size == 0 or len(queries) == 0:
            return []
        parts = [
            self._search_batch(query_words[s : s + batch], s, radius)
            for s in range(0, len(queries), batch)
        ]
        q_idx = np.concatenate([p[0] for p in parts])
        i_idx = np.concatenate([p[1] for p in parts])
        dist = np.concatenate([p[2] for p in parts])
        return _matches(q_idx, i_idx, dist)

    def _candidates(
        self, query_words: np.ndarray, block: int, flips: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(query row, stored row) of every stored hash in a probed bucket of ``block``."""
        width = self._widths[block]
        masks = _flip_masks(width, flips)
        values = _block_values(query_words, self._starts_at[block], width)
        probes = (values[:, None] ^ masks[None, :]).astype(np.int64).reshape(-1)
        starts = self._starts[block]
        lo = np.take(starts, probes).astype(np.int64)
        lengths = np.take(starts, probes + 1) - lo
        total = int(lengths.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        hit = lengths > 0  # most probes of wide blocks find an empty bucket
        lo, lengths = lo[hit], lengths[hit]
        rows = np.repeat(np.arange(len(query_words)).repeat(len(masks))[hit], lengths)
        positions = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        return rows, np.take(self._items[block], positions).astype(np.int64)

    def _search_batch(
        self, query_words: np.ndarray, offset: int, radius: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        flips = radius // self.blocks
        found = [self._candidates(query_words, b, flips) for b in range(self.blocks)]
        rows = np.concatenate([f[0] for f in found])
        items = np.concatenate([f[1] for f in found])
        # A hash's four words share one cache line: gather rows, not columns.
        x = np.bitwise_xor(np.take(query_words, rows, axis=0), np.take(self._words, items, axis=0))
        counts = np.bitwise_count(x).astype(np.int16)
        dist = counts[:, 0] + counts[:, 1] + counts[:, 2] + counts[:, 3]
        keep = dist <= radius
        # A match seen through several blocks is kept once.
        pairs, first = np.unique(rows[keep] * self.size + items[keep], return_index=True)
        return pairs // self.size + offset, pairs % self.size, dist[keep][first].astype(np.int64)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Hamming distances of two (n, 32) uint8 arrays."""
    x = np.bitwise_xor(a.view(np.uint64), b.view(np.uint64))
    counts: np.ndarray = np.bitwise_count(x).sum(axis=1, dtype=np.int64)
    return counts


def brute_force(hashes: np.ndarray, queries: np.ndarray, radius: int) -> list[Match]:
    """The reference: every stored hash compared with every query."""
    found: list[Match] = []
    for q in range(len(queries)):
        dist = _distances(np.broadcast_to(queries[q], hashes.shape).copy(), hashes)
        hits = np.nonzero(dist <= radius)[0]
        found.extend(Match(q, int(i), int(dist[i])) for i in hits)
    return sorted(found, key=lambda m: (m.query, m.distance, m.item))


def _matches(q_idx: np.ndarray, i_idx: np.ndarray, dist: np.ndarray) -> list[Match]:
    order = np.lexsort((i_idx, dist, q_idx))
    return [Match(int(q_idx[k]), int(i_idx[k]), int(dist[k])) for k in order]
