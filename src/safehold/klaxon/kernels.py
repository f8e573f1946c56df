"""Compiled passes of the engine: over every event, its age bands; over the candidates,
their flags' look-ups, their grouping by pair, the history rules and the (pair, window)
runs that become alerts.

Why compiled: each of these is one walk down rows, keeping a few values per row, or a
look-up in a table made once. Polars has no such walk; it says the history rules as window
expressions (a group per sender and bucket, shifts within the night or channel rows, a
group per run), each a hash grouping of every candidate: 31 ms of the benchmark world's
145, against 4 to 6 ms as walks. The bands are nine short texts, which Polars compares or
casts at 6 to 9 ns an event; read off Arrow's string views by a perfect hash they cost
under 2. A Polars join builds its hash table of the flags on every batch, and its sort of
the candidates by pair key cost a sixth of their features; an index made per flags load
and a counting sort by pair number do not. numba compiles each pass once per machine
(``cache=True``) and runs it on the columns' own buffers. The columns come in as NumPy
arrays; nothing here knows of Polars or of rules files (``engine`` turns a rule into these
arguments)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from numba import config, njit

Ints = npt.NDArray[np.int64]
Keys = npt.NDArray[np.uint64]
Flags = npt.NDArray[np.bool_]
T = TypeVar("T", bound=np.generic)


def read_only(column: npt.NDArray[T]) -> npt.NDArray[T]:
    """A read-only view of ``column``: numba compiles a walk once per argument type, and
    whether an array may be written is part of its type, so every array goes in read-only
    (columns from Polars are; arrays made here are not) and each walk compiles once."""
    view = column.view()
    view.flags.writeable = False
    return view


def _probe() -> int:
    return 0


def _private_cache_folder() -> str:
    """A folder only this user can write: numba's index files are pickles, so a folder
    another user could write would be a way to run code as this one."""
    folder = Path(tempfile.gettempdir()) / f"safehold-numba-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    found = folder.lstat()
    if folder.is_symlink() or found.st_uid != os.getuid() or found.st_mode & 0o077:
        return tempfile.mkdtemp(prefix="safehold-numba-")
    return str(folder)


def _cache_somewhere() -> None:
    """numba keeps compiled walks beside this file or in the user's cache folder, and
    refuses to define a cached function where it can write neither (a read-only install
    run by a user without a writable home would fail on import): then they are cached in
    a private temporary folder instead."""
    try:
        njit(cache=True)(_probe)
    except RuntimeError:
        config.CACHE_DIR = _private_cache_folder()  # type: ignore[attr-defined]


_cache_somewhere()
_GOLDEN = -0x61C8864680B583EB  # odd 64-bit multipliers (as signed), to spread the slots
_MIX = -0x40A7B892E31B1A47


@njit(cache=True)
def _fan_out(
    pair: Ints, sender: Ints, sender_check: Ints, t: Ints, on: Flags, within: int, least: int
) -> Flags:
    n = t.shape[0]
    size = 16
    while size < 2 * n:
        size *= 2
    # open addressing on (sender, its check hash, bucket); a slot's fields side by side,
    # so that a probe reads one cache line
    slots = np.zeros((size, 4), np.int64)  # sender, check, bucket, group + 1 (0: free)
    group_of = np.zeros(n, np.int64)  # group + 1 of each row (0: not ``on``)
    last_pair = np.empty(n, np.int64)
    children = np.zeros(n + 1, np.int64)
    groups = 0
    g = 0
    h = 0
    for i in range(n):
        if not on[i]:
            continue
        bucket = t[i] // within
        s, c = sender[i], sender_check[i]
        if g == 0 or not (slots[h, 0] == s and slots[h, 1] == c and slots[h, 2] == bucket):
            h = (s ^ (c * _GOLDEN) ^ (bucket * _MIX)) & (size - 1)
            while slots[h, 3] != 0 and not (
                slots[h, 0] == s and slots[h, 1] == c and slots[h, 2] == bucket
            ):
                h = (h + 1) & (size - 1)
            if slots[h, 3] == 0:
                groups += 1
                slots[h, 0], slots[h, 1], slots[h, 2] = s, c, bucket
                slots[h, 3] = groups
                last_pair[groups - 1] = -1
            g = slots[h, 3]
        group_of[i] = g
        # a pair's rows are together and in time order, so its rows of one (sender,
        # bucket) are too: a group meets each of its pairs in one stretch
        if last_pair[g - 1] != pair[i]:
            last_pair[g - 1] = pair[i]
            children[g] += 1
    hits = np.zeros(n, np.bool_)
    for i in range(n):
        hits[i] = group_of[i] > 0 and children[group_of[i]] >= least
    return hits


def fan_out(
    pair: Ints, sender: Keys, sender_check: Keys, t: Ints, on: Flags, within: int, least: int
) -> Flags:
    """Rows (where ``on``) whose sender contacted at least ``least`` pairs' children among
    the ``on`` rows of the same tumbling bucket of length ``within``."""
    senders, checks = read_only(sender.view(np.int64)), read_only(sender_check.view(np.int64))
    hits: Flags = _fan_out(
        read_only(pair), senders, checks, read_only(t), read_only(on), within, least
    )
    return hits


@njit(cache=True)
def _group_pairs(
    sender: Ints, recipient: Ints, sender_check: Ints, recipient_check: Ints, t: Ints
) -> tuple[Ints, Ints, bool, bool]:
    # a pair's key, and a second from the other hashes: the recipient's hash multiplied
    # (wrapping) so that (a, b) and (b, a) differ
    key = sender ^ (recipient * _GOLDEN)
    check = sender_check ^ (recipient_check * _GOLDEN)
    n = key.shape[0]
    size = 16
    while size < 2 * n:
        size *= 2
    slots = np.zeros((size, 3), np.int64)  # key, check, pair number (0: a free slot)
    pair_of = np.empty(n, np.int64)
    rows = np.zeros(n + 1, np.int64)  # of each pair number, then where its rows start
    pairs = 0
    collided = False
    for i in range(n):
        h = (key[i] * _GOLDEN) & (size - 1)
        while slots[h, 2] != 0 and slots[h, 0] != key[i]:
            h = (h + 1) & (size - 1)
        if slots[h, 2] == 0:
            pairs += 1
            slots[h, 0], slots[h, 1], slots[h, 2] = key[i], check[i], pairs
        collided = collided or slots[h, 1] != check[i]
        pair_of[i] = slots[h, 2]
        rows[slots[h, 2]] += 1
    start = 0
    for number in range(1, pairs + 1):  # counts to the places the pairs' rows start
        start, rows[number] = start + rows[number], start
    order = np.empty(n, np.int64)
    pair = np.empty(n, np.int64)
    seen = np.zeros(pairs + 1, np.bool_)
    last_t = np.zeros(pairs + 1, np.int64)  # of the pair's row placed last
    tied = False
    for i in range(n):  # a stable counting sort: each pair's rows keep their time order
        number = pair_of[i]
        at = rows[number]
        rows[number] += 1
        order[at], pair[at] = i, number
        tied = tied or (seen[number] and last_t[number] == t[i])
        seen[number], last_t[number] = True, t[i]
    return order, pair, collided, tied


def group_pairs(
    sender: Keys, recipient: Keys, sender_check: Keys, recipient_check: Keys, t: Ints
) -> tuple[Ints, Ints, bool, bool]:
    """Rows in time order, by (sender, recipient) hashes: the order that puts each pair's
    rows together (pairs in the order they first appear, rows in time order within a
    pair), each row's pair number in that order (from 1); whether the second hashes (the
    ``*_check``) differ within a pair by the first (two pairs share a key), and whether a
    pair has two rows at the same time. A counting sort by pair number, where a sort by a
    key cost the features a sixth of their time."""
    s, r = read_only(sender.view(np.int64)), read_only(recipient.view(np.int64))
    s_check = read_only(sender_check.view(np.int64))
    r_check = read_only(recipient_check.view(np.int64))
    order, pair, collided, tied = _group_pairs(s, r, s_check, r_check, read_only(t))
    return order, pair, bool(collided), bool(tied)


@njit(cache=True)
def _repeated(pair: Ints, t: Ints, on: Flags, back: int, within: int) -> Flags:
    n = t.shape[0]
    ring = np.zeros(back, np.int64)  # the last ``back`` rows where ``on``, oldest first
    seen = 0
    hits = np.zeros(n, np.bool_)
    for i in range(n):
        if not on[i]:
            continue
        if seen >= back:
            j = ring[seen % back]
            hits[i] = pair[j] == pair[i] and t[i] - t[j] <= within
        ring[seen % back] = i
        seen += 1
    return hits


def repeated(pair: Ints, t: Ints, on: Flags, back: int, within: int) -> Flags:
    """Rows (where ``on``) with a row of the same pair ``back`` ``on`` rows up, no longer
    than ``within`` before."""
    hits: Flags = _repeated(read_only(pair), read_only(t), read_only(on), back, within)
    return hits


@njit(cache=True)
def _escalating(
    pair: Ints, t: Ints, on: Flags, gaps: int, ratio: float, first_gap: int, within: int
) -> Flags:
    n = t.shape[0]
    ring = np.zeros(gaps, np.int64)  # the last ``gaps`` rows where ``on``
    seen = 0
    hits = np.zeros(n, np.bool_)
    for i in range(n):
        if not on[i]:
            continue
        if seen >= gaps:
            # row ``j`` rows up among the ``on`` rows, for j = 1..gaps
            oldest = ring[seen % gaps]
            ok = pair[oldest] == pair[i] and t[i] - t[oldest] <= within
            newer = i
            for j in range(1, gaps + 1):
                if not ok:
                    break
                older = ring[(seen - j) % gaps]
                gap = t[newer] - t[older]
                if j == gaps:
                    ok = gap >= first_gap
                else:
                    before = t[older] - t[ring[(seen - j - 1) % gaps]]
                    ok = gap <= ratio * before
                newer = older
            hits[i] = ok
        ring[seen % gaps] = i
        seen += 1
    return hits


def escalating(
    pair: Ints, t: Ints, on: Flags, gaps: int, ratio: float, first_gap: int, within: int
) -> Flags:
    """Rows (where ``on``) ending ``gaps`` gaps of one pair, among the ``on`` rows, each at
    most ``ratio`` of the one before, the first at least ``first_gap``, all within
    ``within``."""
    hits: Flags = _escalating(
        read_only(pair), read_only(t), read_only(on), gaps, ratio, first_gap, within
    )
    return hits


@njit(cache=True)
def _runs(
    pair: Ints, t: Ints, bits: Ints, window: int, severities: Ints, alert_at: int
) -> tuple[Ints, Ints, Ints, Ints, Ints, Ints]:
    n = t.shape[0]
    first = np.empty(n, np.int64)
    start = np.empty(n, np.int64)
    last_t = np.empty(n, np.int64)
    events = np.empty(n, np.int64)
    masks = np.empty(n, np.int64)
    severity = np.empty(n, np.int64)
    found = 0
    i = 0
    while i < n:
        w = t[i] // window * window
        end = i
        mask = 0
        while end < n and pair[end] == pair[i] and t[end] // window * window == w:
            mask |= bits[end]
            end += 1
        total = 0
        for b in range(severities.shape[0]):
            if mask >> b & 1:
                total += severities[b]
        if total >= alert_at:
            first[found] = i
            start[found] = w
            last_t[found] = t[end - 1]
            events[found] = end - i
            masks[found] = mask
            severity[found] = total
            found += 1
        i = end
    return (
        first[:found],
        start[:found],
        last_t[:found],
        events[:found],
        masks[:found],
        severity[:found],
    )


def alerting_runs(
    pair: Ints, t: Ints, bits: Ints, window: int, severities: Ints, alert_at: int
) -> dict[str, Ints]:
    """Each run of rows of one pair in one window (rows in pair and time order) whose rules'
    severities (bit ``b`` of ``bits`` adds ``severities[b]``) reach ``alert_at``: its first
    row, window start, last time, rows, rules' bits and severity."""
    first, start, last_t, events, masks, severity = _runs(
        read_only(pair), read_only(t), read_only(bits), window, read_only(severities), alert_at
    )
    return {
        "_first": first,
        "_w": start,
        "_last_t": last_t,
        "events": events,
        "_mask": masks,
        "severity": severity,
    }


_SLOT_BITS = 5  # a table of 32 slots for a handful of short texts
_SLOT_SHIFT = np.uint64(64 - _SLOT_BITS)
_FIRST_MULTIPLIER = 0x9E3779B97F4A7C15  # odd: where the search for a perfect hash starts


@dataclass(frozen=True)
class ShortTexts:
    """A perfect hash of a few texts of at most 12 bytes, by the 16 bytes of their Arrow
    string views (length, then the text inline, padded): one multiply, one look-up and
    two masked compares tell which text a view holds, or that it holds none of them."""

    multiplier: np.uint64
    keys: Keys  # (slot, 2): the view's two words, masked
    masks: Keys  # (slot, 2): the bytes of the length and of the text
    codes: npt.NDArray[np.int8]  # (slot): the text's place, -2 where no text is


def _view_words(text: str) -> tuple[Keys, Keys]:
    data = text.encode()
    if len(data) > 12:
        raise ValueError(f"{text!r} is longer than the 12 bytes a string view holds inline")
    view, mask = np.zeros(16, np.uint8), np.zeros(16, np.uint8)
    view[:4] = np.frombuffer(np.uint32(len(data)).tobytes(), np.uint8)  # little-endian
    view[4 : 4 + len(data)] = np.frombuffer(data, np.uint8)
    mask[: 4 + len(data)] = 0xFF
    return view.view(np.uint64), mask.view(np.uint64)


def short_texts(texts: tuple[str, ...]) -> ShortTexts:
    """The table for ``texts`` (found by trying odd multipliers in order, so always the
    same table for the same texts)."""
    words = [_view_words(text) for text in texts]
    size = 1 << _SLOT_BITS
    for multiplier in range(_FIRST_MULTIPLIER, _FIRST_MULTIPLIER + 20_000, 2):
        slots = [(int(view[0]) * multiplier % 2**64) >> int(_SLOT_SHIFT) for view, _ in words]
        if len(set(slots)) == len(texts):
            break
    else:
        raise ValueError(f"no perfect hash of {len(texts)} texts in {size} slots")
    keys, masks = np.ones((size, 2), np.uint64), np.zeros((size, 2), np.uint64)
    codes = np.full(size, -2, np.int8)
    for place, (slot, (view, mask)) in enumerate(zip(slots, words, strict=True)):
        keys[slot], masks[slot], codes[slot] = view & mask, mask, place
    return ShortTexts(np.uint64(multiplier), keys, masks, codes)


@njit(cache=True)
def _view_codes(
    views: Keys,
    validity: npt.NDArray[np.uint8],
    start: int,
    stop: int,
    table_multiplier: np.uint64,
    keys: Keys,
    masks: Keys,
    codes: npt.NDArray[np.int8],
) -> tuple[npt.NDArray[np.int8], int]:
    out = np.empty(stop, np.int8)
    first_other = -1
    for j in range(start, stop):
        if validity.shape[0] and not (validity[j >> 3] >> (j & 7)) & 1:
            out[j] = -1
            continue
        low, high = views[j, 0], views[j, 1]
        slot = (low * table_multiplier) >> _SLOT_SHIFT
        if (low & masks[slot, 0]) == keys[slot, 0] and (high & masks[slot, 1]) == keys[slot, 1]:
            out[j] = codes[slot]
        else:
            out[j] = -2
            if first_other < 0:
                first_other = j - start
    return out, first_other


def view_codes(
    views: Keys, validity: npt.NDArray[np.uint8] | None, offset: int, length: int, table: ShortTexts
) -> tuple[npt.NDArray[np.int8], int]:
    """The place in the table's texts of each of ``length`` string views from ``offset``
    (an Arrow array's views buffer as (view, 2) words and its validity bitmap, None when
    it has no nulls): -1 for a null, -2 for another text; returned for rows ``0`` to
    ``offset + length`` (the first ``offset`` unset), with the first row (from
    ``offset``) that holds another text, or -1."""
    bitmap = np.zeros(0, np.uint8) if validity is None else validity
    out, first_other = _view_codes(
        read_only(views),
        read_only(bitmap),
        offset,
        offset + length,
        table.multiplier,
        read_only(table.keys),
        read_only(table.masks),
        read_only(table.codes),
    )
    return out, int(first_other)


@dataclass(frozen=True)
class KeyIndex:
    """Rows of a flags table by a 64-bit key (an account's hash), made once per flags load
    and read by every batch: a Polars join builds its hash table of the flags again on
    every call, which for a platform's tens of thousands of marked children costs more
    than a small batch's whole screening."""

    slots: Ints  # (size, 2): key, row + 1 (0: a free slot), side by side: a cache line


@njit(cache=True)
def _key_index(keys: Ints) -> Ints:
    size = 16
    while size < 2 * keys.shape[0]:
        size *= 2
    slots = np.zeros((size, 2), np.int64)
    for row in range(keys.shape[0]):
        h = (keys[row] * _GOLDEN) & (size - 1)
        while slots[h, 1] != 0 and slots[h, 0] != keys[row]:
            h = (h + 1) & (size - 1)
        slots[h, 0], slots[h, 1] = keys[row], row + 1
    return slots


def key_index(keys: Keys) -> KeyIndex:
    """The index of ``keys``, which are distinct (a repeated key: its last row)."""
    return KeyIndex(_key_index(read_only(keys.view(np.int64))))


@njit(cache=True)
def _rows_of(slots: Ints, keys: Ints, missing: int) -> Ints:
    size = slots.shape[0]
    rows = np.empty(keys.shape[0], np.int64)
    for i in range(keys.shape[0]):
        h = (keys[i] * _GOLDEN) & (size - 1)
        while slots[h, 1] != 0 and slots[h, 0] != keys[i]:
            h = (h + 1) & (size - 1)
        rows[i] = slots[h, 1] - 1 if slots[h, 1] != 0 else missing
    return rows


def rows_of(index: KeyIndex, keys: Keys, missing: int) -> Ints:
    """The row of each key in the indexed table, ``missing`` where it has none."""
    rows: Ints = _rows_of(read_only(index.slots), read_only(keys.view(np.int64)), missing)
    return rows


def warm() -> None:
    """Compile every walk now (or load it from the cache), so that a worker's first message
    does not wait the seconds that takes."""
    ints, keys = np.zeros(1, np.int64), np.zeros(1, np.uint64)
    flags = np.ones(1, np.bool_)
    fan_out(ints, keys, keys, ints, flags, 1, 2)
    repeated(ints, ints, flags, 1, 1)
    escalating(ints, ints, flags, 2, 0.5, 1, 1)
    group_pairs(keys, keys, keys, keys, ints)
    alerting_runs(ints, ints, ints, 1, np.ones(1, np.int64), 1)
    view_codes(np.zeros((1, 2), np.uint64), None, 0, 1, short_texts(("warm",)))
    rows_of(key_index(keys), keys, 0)
