"""Hashing a device's files and matching them against hash sets, exactly and by PDQ.

Why: known-item matches are the strongest and fastest signal triage has, and they need no
one to look at a picture: every file is digested once (MD5, SHA-1, SHA-256 in one read, in
parallel), images not matched exactly are PDQ-hashed at reduced decode size and looked up
for near-duplicates (re-encoded, resized or cropped copies of known items).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from safehold.hashing.files import FileDigests, HashFailure, default_workers, digest_files
from safehold.hashing.lookup import HashSetIndex
from safehold.hashing.near_duplicates import MAX_RADIUS
from safehold.hashing.pdq import PdqHash, pdq_of_file
from safehold.triage.extraction import Extraction, FileEntry
from safehold.triage.records import NotProcessed

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
MIN_PDQ_QUALITY = 50
"""PDQ's authors advise against matching hashes of quality below 50 (flat images)."""


@dataclass(frozen=True)
class HashMatch:
    path: str
    algorithm: str
    hash: str
    list: str
    category: str
    raw_category: str
    severity: int
    record: str
    modified: float


@dataclass(frozen=True)
class NearDuplicate:
    path: str
    pdq: str
    matched_hash: str
    distance: int
    list: str
    category: str
    raw_category: str
    severity: int
    record: str
    modified: float


@dataclass
class MediaResults:
    files_hashed: int = 0
    bytes_hashed: int = 0
    images_hashed: int = 0
    low_quality_images: int = 0
    hash_matches: list[HashMatch] = field(default_factory=list)
    near_duplicates: list[NearDuplicate] = field(default_factory=list)
    not_processed: list[NotProcessed] = field(default_factory=list)


def _is_image(entry: FileEntry) -> bool:
    return PurePosixPath(entry.path).suffix.lower() in IMAGE_SUFFIXES


def _pdq(entry: FileEntry) -> PdqHash | str:
    try:
        return pdq_of_file(entry.local)
    except (OSError, ValueError, SyntaxError) as error:
        return f"image could not be decoded for PDQ: {error}"


def match_media(
    extraction: Extraction,
    index: HashSetIndex | None,
    *,
    workers: int | None = None,
    on_file: Callable[[], None] | None = None,
) -> MediaResults:
    results = MediaResults()
    entries = list(extraction)
    by_local = {e.local: e for e in entries}
    exact_paths: set[str] = set()

    def done(_: FileDigests | HashFailure) -> None:
        if on_file:
            on_file()

    for digest in digest_files([e.local for e in entries], workers=workers, on_done=done):
        entry = by_local[digest.path]
        if isinstance(digest, HashFailure):
            results.not_processed.append(NotProcessed(entry.path, digest.reason))
            continue
        results.files_hashed += 1
        results.bytes_hashed += digest.size
        if index is None:
            continue
        seen: set[tuple[str, str]] = set()
        for algorithm in ("md5", "sha1", "sha256"):
            value = getattr(digest, algorithm)
            for hit in index.exact(algorithm, value):
                if (hit.list_name, hit.record) in seen:
                    continue  # the same listed item found again by another digest
                seen.add((hit.list_name, hit.record))
                exact_paths.add(entry.path)
                results.hash_matches.append(
                    HashMatch(
                        entry.path,
                        algorithm,
                        value,
                        hit.list_name,
                        hit.category.category,
                        hit.category.raw,
                        hit.category.severity,
                        hit.record,
                        entry.mtime,
                    )
                )
    if index is None:
        return results
    images = [e for e in entries if _is_image(e) and e.path not in exact_paths]
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        hashed = list(zip(images, pool.map(_pdq, images), strict=True))
    queries: list[tuple[FileEntry, PdqHash]] = []
    for entry, pdq in hashed:
        if isinstance(pdq, str):
            results.not_processed.append(NotProcessed(entry.path, pdq))
            continue
        results.images_hashed += 1
        if pdq.quality < MIN_PDQ_QUALITY:
            results.low_quality_images += 1
            continue
        queries.append((entry, pdq))
    for (entry, pdq), matches in zip(
        queries, index.near([p.hex for _, p in queries], MAX_RADIUS), strict=True
    ):
        for match in matches:
            hit = match.entry
            results.near_duplicates.append(
                NearDuplicate(
                    entry.path,
                    pdq.hex,
                    hit.pdq or "",
                    match.distance,
                    hit.list_name,
                    hit.category.category,
                    hit.category.raw,
                    hit.category.severity,
                    hit.record,
                    entry.mtime,
                )
            )
    return results
