import numpy as np
import pytest

from safehold.hashing.near_duplicates import MAX_RADIUS, PdqIndex, brute_force


def _perturbed(stored: np.ndarray, n: int, rng: np.random.Generator, max_flips: int) -> np.ndarray:
    """Queries near stored hashes (0..max_flips bits flipped) mixed with random ones."""
    base = stored[rng.integers(0, len(stored), n)].copy()
    bits = np.unpackbits(base, axis=1)
    flips = rng.integers(0, max_flips + 1, n)
    for row, k in enumerate(flips):
        bits[row, rng.choice(256, int(k), replace=False)] ^= 1
    queries = np.packbits(bits, axis=1)
    random_rows = rng.random(n) < 0.3
    queries[random_rows] = rng.integers(0, 256, (int(random_rows.sum()), 32), dtype=np.uint8)
    return queries


def _pairs(matches: list) -> set[tuple[int, int, int]]:
    return {(m.query, m.item, m.distance) for m in matches}


@pytest.mark.parametrize("blocks", [11, 13, 16])
@pytest.mark.parametrize("radius", [0, 8, 21, MAX_RADIUS])
def test_index_equals_brute_force(radius: int, blocks: int) -> None:
    rng = np.random.default_rng(radius)
    stored = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    stored[100:110] = stored[0]  # duplicates must all be found
    queries = _perturbed(stored, 1500, rng, max_flips=40)
    got = PdqIndex(stored, blocks=blocks).search(queries, radius)
    expected = brute_force(stored, queries, radius)
    assert len(expected) > 20
    assert _pairs(got) == _pairs(expected)


@pytest.mark.slow
def test_index_equals_faiss_brute_force_on_100000_random_queries() -> None:
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(7)
    stored = rng.integers(0, 256, (50_000, 32), dtype=np.uint8)
    queries = _perturbed(stored, 100_000, rng, max_flips=45)
    got = _pairs(PdqIndex(stored).search(queries, MAX_RADIUS))
    flat = faiss.IndexBinaryFlat(256)
    flat.add(stored)
    limits, distances, items = flat.range_search(queries, MAX_RADIUS + 1)
    expected = {
        (q, int(items[j]), int(distances[j]))
        for q in range(len(queries))
        for j in range(limits[q], limits[q + 1])
    }
    assert len(expected) > 30_000
    assert got == expected


def test_the_index_size_chooses_the_blocks_and_bad_counts_are_refused() -> None:
    assert PdqIndex(np.zeros((10, 32), dtype=np.uint8)).blocks == 16
    with pytest.raises(ValueError, match="blocks"):
        PdqIndex(np.zeros((1, 32), dtype=np.uint8), blocks=10)


def test_radius_beyond_the_exact_limit_is_refused() -> None:
    index = PdqIndex(np.zeros((1, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="radius"):
        index.search(np.zeros((1, 32), dtype=np.uint8), 32)
