"""Alert ids: BLAKE2b-128 of ``klaxon-alert/v1|member|sender|recipient|window start``, the
same for the same (member, sender, child, window) on every run and every machine, so that
a replay finds the alert it made before.

Why a compiled BLAKE2b beside ``hashlib``'s: a batch has an alert per few dozen events,
and hashing them one call at a time from Python (with the key text built first) cost 630
ns an alert, a tenth of all screening at the benchmark world's mix; one compiled pass over
the batch's keys costs about a fifth of that. It is RFC 7693's BLAKE2b, unkeyed, with a
16-byte digest, checked against ``hashlib`` on random inputs (tests); ``alert_id`` is the
plain reading, and the definition. Imports NumPy, numba, Polars and Arrow, and ``kernels``
(whose import settles where numba caches)."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
from numba import njit

from safehold.klaxon import kernels

ALERT_ID_VERSION = "klaxon-alert/v1"
DIGEST_BYTES = 16
Bytes = npt.NDArray[np.uint8]
Ints = npt.NDArray[np.int64]

_IV = np.array(
    [
        0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
        0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
    ],
    dtype=np.uint64,
)  # fmt: skip
_SIGMA = np.array(
    [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ],
    dtype=np.int64,
)  # the message schedule of round r is row r % 10 (RFC 7693)
_BLOCK = 128
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_PARAMETERS = np.uint64(0x01010000 | DIGEST_BYTES)  # fan-out 1, depth 1, no key


@njit(cache=True, inline="always")
def _rotr(x: np.uint64, n: int) -> np.uint64:
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@njit(cache=True, inline="always")
def _mix(
    a: np.uint64, b: np.uint64, c: np.uint64, d: np.uint64, x: np.uint64, y: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    a = a + b + x
    d = _rotr(d ^ a, 32)
    c = c + d
    b = _rotr(b ^ c, 24)
    a = a + b + y
    d = _rotr(d ^ a, 16)
    c = c + d
    b = _rotr(b ^ c, 63)
    return a, b, c, d


@njit(cache=True)
def _compress(
    h: npt.NDArray[np.uint64], words: npt.NDArray[np.uint64], block: int, counter: int,
    last: bool,
) -> None:  # fmt: skip
    """Block ``block`` of ``words`` (16 little-endian words a block) into the state ``h``.
    The working vector is sixteen locals, not an array, so that it can live in registers;
    the block is read in place, since a slice costs a compiled loop more than a round."""
    m = words[block * 16 :]
    v0, v1, v2, v3, v4, v5, v6, v7 = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    v8, v9, v10, v11 = _IV[0], _IV[1], _IV[2], _IV[3]
    v12 = _IV[4] ^ np.uint64(counter)
    v13, v14, v15 = _IV[5], _IV[6], _IV[7]
    if last:
        v14 ^= _ALL_ONES
    for r in range(12):
        s = _SIGMA[r % 10]
        v0, v4, v8, v12 = _mix(v0, v4, v8, v12, m[s[0]], m[s[1]])
        v1, v5, v9, v13 = _mix(v1, v5, v9, v13, m[s[2]], m[s[3]])
        v2, v6, v10, v14 = _mix(v2, v6, v10, v14, m[s[4]], m[s[5]])
        v3, v7, v11, v15 = _mix(v3, v7, v11, v15, m[s[6]], m[s[7]])
        v0, v5, v10, v15 = _mix(v0, v5, v10, v15, m[s[8]], m[s[9]])
        v1, v6, v11, v12 = _mix(v1, v6, v11, v12, m[s[10]], m[s[11]])
        v2, v7, v8, v13 = _mix(v2, v7, v8, v13, m[s[12]], m[s[13]])
        v3, v4, v9, v14 = _mix(v3, v4, v9, v14, m[s[14]], m[s[15]])
    h[0] ^= v0 ^ v8
    h[1] ^= v1 ^ v9
    h[2] ^= v2 ^ v10
    h[3] ^= v3 ^ v11
    h[4] ^= v4 ^ v12
    h[5] ^= v5 ^ v13
    h[6] ^= v6 ^ v14
    h[7] ^= v7 ^ v15


@njit(cache=True)
def _digest_into(
    message: Bytes, size: int, out: npt.NDArray[np.uint64], row: int, h: npt.NDArray[np.uint64]
) -> None:
    """Row ``row`` of ``out`` (two words: the digest's 16 bytes) = BLAKE2b of
    ``message[:size]``, hashed where it lies: ``message`` is whole blocks long
    (``_blocks_for``) and is zeroed here from ``size`` to the block's end; ``h`` is 8 words
    of scratch the caller reuses (allocating per message costs more than the hashing)."""
    words = message.view(np.uint64)
    last = max(0, (size - 1) // _BLOCK)  # an empty message is one block of zeros
    for j in range(size, (last + 1) * _BLOCK):
        message[j] = 0
    for j in range(8):
        h[j] = _IV[j]
    h[0] ^= _PARAMETERS
    for block in range(last):
        _compress(h, words, block, (block + 1) * _BLOCK, False)
    _compress(h, words, last, size, True)
    out[row, 0], out[row, 1] = h[0], h[1]


def _blocks_for(size: int) -> int:
    return max(1, -(-size // _BLOCK)) * _BLOCK


@njit(cache=True)
def _append_text(buffer: Bytes, at: int, data: Bytes, start: int, stop: int) -> int:
    for j in range(start, stop):
        buffer[at] = data[j]
        at += 1
    return at


@njit(cache=True)
def _append_decimal(buffer: Bytes, at: int, value: int, digits: Bytes) -> int:
    """``value`` as ``str(int)`` writes it."""
    if value < 0:
        buffer[at] = 45  # "-"
        at += 1
        magnitude = np.uint64(-(value + 1)) + np.uint64(1)  # -value overflows at -2**63
    else:
        magnitude = np.uint64(value)
    n = 0
    while True:
        digits[n] = np.uint8(48 + magnitude % np.uint64(10))
        magnitude //= np.uint64(10)
        n += 1
        if magnitude == 0:
            break
    for k in range(n - 1, -1, -1):
        buffer[at] = digits[k]
        at += 1
    return at


@njit(cache=True)
def _alert_digests(
    prefix: Bytes,
    sender_data: Bytes,
    sender_offsets: npt.NDArray[np.int64],
    recipient_data: Bytes,
    recipient_offsets: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
) -> Bytes:  # (n, 16)
    n = starts.shape[0]
    out = np.empty((n, 2), np.uint64)
    longest = 0
    for i in range(n):
        size = sender_offsets[i + 1] - sender_offsets[i]
        size += recipient_offsets[i + 1] - recipient_offsets[i]
        longest = max(longest, size)
    most = prefix.shape[0] + longest + 2 + 20  # the texts, two bars and the decimal
    buffer = np.empty((most + _BLOCK - 1) // _BLOCK * _BLOCK, np.uint8)
    buffer[: prefix.shape[0]] = prefix
    scratch, digits = np.empty(8, np.uint64), np.empty(20, np.uint8)
    for i in range(n):
        at = _append_text(
            buffer, prefix.shape[0], sender_data, sender_offsets[i], sender_offsets[i + 1]
        )
        buffer[at] = 124  # "|"
        at = _append_text(
            buffer, at + 1, recipient_data, recipient_offsets[i], recipient_offsets[i + 1]
        )
        buffer[at] = 124
        at = _append_decimal(buffer, at + 1, starts[i], digits)
        _digest_into(buffer, at, out, i, scratch)
    return out.view(np.uint8)


def blake2b_128(message: bytes) -> bytes:
    """The compiled BLAKE2b of one message (for tests against ``hashlib``)."""
    out = np.empty((1, 2), np.uint64)
    data = np.zeros(_blocks_for(len(message)), np.uint8)
    data[: len(message)] = np.frombuffer(message, dtype=np.uint8)
    _digest_into(data, len(message), out, 0, np.empty(8, np.uint64))
    return out.tobytes()


def alert_id(member_id: str, sender: str, recipient: str, window_start_us: int) -> str:
    """The same (member, sender, child, window) always gives the same id."""
    key = f"{ALERT_ID_VERSION}|{member_id}|{sender}|{recipient}|{window_start_us}"
    return hashlib.blake2b(key.encode(), digest_size=DIGEST_BYTES).hexdigest()


def _bytes_and_offsets(texts: pa.Array | pa.ChunkedArray) -> tuple[Bytes, npt.NDArray[np.int64]]:
    whole = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    plain = whole.cast(pa.large_binary())  # one data buffer and offsets, not views
    _, offsets, data = plain.buffers()
    starts = np.frombuffer(offsets, dtype=np.int64)[plain.offset : plain.offset + len(plain) + 1]
    return (np.frombuffer(data, dtype=np.uint8) if data else np.zeros(1, np.uint8)), starts


def alert_digests(
    member_id: str, senders: pl.Series, recipients: pl.Series, window_starts: Ints
) -> Bytes:
    """``alert_id``'s digest, 16 bytes a row, of each (sender, recipient, window start)."""
    prefix = np.frombuffer(f"{ALERT_ID_VERSION}|{member_id}|".encode(), dtype=np.uint8)
    sender_data, sender_offsets = _bytes_and_offsets(senders.to_arrow())
    recipient_data, recipient_offsets = _bytes_and_offsets(recipients.to_arrow())
    found: Bytes = _alert_digests(
        kernels.read_only(prefix),
        kernels.read_only(sender_data),
        kernels.read_only(sender_offsets),
        kernels.read_only(recipient_data),
        kernels.read_only(recipient_offsets),
        kernels.read_only(np.ascontiguousarray(window_starts, dtype=np.int64)),
    )
    return found


def ids_in_order(
    member_id: str, senders: pl.Series, recipients: pl.Series, window_starts: Ints
) -> tuple[pl.Series, Ints]:
    """The alert ids (hex text) of each row, and the order that sorts them: by the
    digests' first eight bytes as a big-endian integer, which sorts as the hex does, and
    by the next eight where two share the first (as good as never: then a lexsort, which
    costs ten times the single sort)."""
    digests = alert_digests(member_id, senders, recipients, window_starts)
    halves = digests.view(">u8").reshape(-1, 2).astype(np.uint64)
    order: Ints = np.argsort(halves[:, 0], kind="stable")
    firsts = halves[order, 0]
    if np.any(firsts[1:] == firsts[:-1]):
        order = np.lexsort((halves[:, 1], halves[:, 0]))
    text = np.frombuffer(digests.tobytes().hex().encode("ascii"), dtype="S32")
    return pl.Series("alert_id", text).cast(pl.Utf8), order


def warm() -> None:
    """Compile the digest now (or load it from the cache), as ``kernels.warm``."""
    alert_digests("warm", pl.Series(["a"]), pl.Series(["b"]), np.zeros(1, np.int64))
