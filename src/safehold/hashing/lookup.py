"""Exact and near-duplicate lookup of a device's hashes against loaded hash sets.

Why: triage asks one question per file (is this a known item, and which list says so?);
answering it from dictionaries keyed by digest and one PDQ index keeps that constant-time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from safehold.hashing.hashsets import HashEntry
from safehold.hashing.near_duplicates import MAX_RADIUS, PdqIndex
from safehold.hashing.pdq import hashes_to_array


@dataclass(frozen=True)
class NearMatch:
    entry: HashEntry
    distance: int


class HashSetIndex:
    def __init__(self, entries: Iterable[HashEntry]) -> None:
        self._exact: dict[tuple[str, str], list[HashEntry]] = {}
        pdq_entries: list[HashEntry] = []
        for entry in entries:
            for algorithm in ("md5", "sha1", "sha256", "pdq"):
                value = getattr(entry, algorithm)
                if value:
                    self._exact.setdefault((algorithm, value), []).append(entry)
            if entry.pdq:
                pdq_entries.append(entry)
        self._pdq_entries = pdq_entries
        self._pdq = PdqIndex(hashes_to_array([e.pdq for e in pdq_entries if e.pdq]))
        self.size = len({id(e) for es in self._exact.values() for e in es})

    def exact(self, algorithm: str, value: str) -> list[HashEntry]:
        return list(self._exact.get((algorithm, value.lower()), ()))

    def near(self, pdq_hexes: list[str], radius: int = MAX_RADIUS) -> list[list[NearMatch]]:
        """For each query PDQ, the stored entries within ``radius``, nearest first."""
        found: list[list[NearMatch]] = [[] for _ in pdq_hexes]
        if not pdq_hexes:
            return found
        queries = hashes_to_array(pdq_hexes)
        for match in self._pdq.search(np.ascontiguousarray(queries), radius):
            found[match.query].append(NearMatch(self._pdq_entries[match.item], match.distance))
        return found
