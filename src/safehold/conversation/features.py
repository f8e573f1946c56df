"""Message text as a sparse feature row: hashed word and character n-grams plus the stage
lexicon.

Why hashing: no vocabulary to store or ship, one vectorised call over a whole batch, and
the same row whether a message is scored alone (incremental) or among a million (batch).
Why numpy instead of a per-text analyser: every text is joined into one array of code
points and every n-gram (word, word pair, character n-gram) is hashed with a few array
operations from prefix sums of a polynomial hash, so the Python cost per message is close
to nothing. Each block is scaled by 1/sqrt(its number of n-grams), which is the L2 norm
when no n-gram repeats and needs no sort; repeats simply add up in the sparse product.
Character n-grams keep typos and text-speak close to the words they stand for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safehold.conversation.lexicon import stage_hits_joined

MAX_CHARS = 2000
"""Longer messages are cut to this many characters before scoring (with a note)."""

TOKEN_PATTERN = r"(?u)\b\w+\b"  # noqa: S105 (a regular expression, not a secret)
"""Word tokens, one-letter words included ("u", "r" carry meaning in text-speak); the
numpy tokeniser finds the same tokens (maximal runs of ``str.isalnum`` or ``_``)."""

N_LEXICON = 6
"""One lexicon column per stage, after the word and character blocks."""

_SEPARATOR = 0
_MASK = (1 << 64) - 1
_MULTIPLIER_INT = 0x100000001B3
_MIX_INT = 0x9E3779B97F4A7C15
_PAIR_INT = 0xC2B2AE3D27D4EB4F
_WORD_SALT_INT = 0x2545F4914F6CDD1D
_PAIR_SALT_INT = 0x165667B19E3779F9
_INVERSE_INT = pow(_MULTIPLIER_INT, -1, 1 << 64)
_MULTIPLIER = np.uint64(_MULTIPLIER_INT)
_INVERSE = np.uint64(_INVERSE_INT)
_MIX = np.uint64(_MIX_INT)
_PAIR = np.uint64(_PAIR_INT)
_WORD_SALT = np.uint64(_WORD_SALT_INT)
_PAIR_SALT = np.uint64(_PAIR_SALT_INT)
_TOKEN = re.compile(TOKEN_PATTERN)
_ASCII_WORD = np.array([chr(c).isalnum() or chr(c) == "_" for c in range(128)], dtype=np.bool_)

U64 = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (possible after JSON decoding) replaced by U+FFFD, one
    character for one, so spans into the original still hold; usually returns ``text``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def truncate(text: str) -> tuple[str, bool]:
    """The text the model reads, and whether it was cut."""
    if len(text) > MAX_CHARS:
        return text[:MAX_CHARS], True
    return text, False


@dataclass(frozen=True)
class TextFeatureConfig:
    """How text becomes a feature row; saved with the model so scoring matches training."""

    word_bits: int = 18
    char_bits: int = 17
    char_min: int = 3
    char_max: int = 5
    lexicon_weight: float = 1.0
    use_lexicon: bool = True
    """False: the lexicon is never scanned and its columns stay zero (the leak check)."""

    @property
    def word_features(self) -> int:
        return 1 << self.word_bits

    @property
    def char_features(self) -> int:
        return 1 << self.char_bits if self.char_bits > 0 else 0

    @property
    def dimension(self) -> int:
        return self.word_features + self.char_features + N_LEXICON


def _mix(h: U64) -> U64:
    h = (h ^ (h >> np.uint64(31))) * _MIX
    h ^= h >> np.uint64(29)
    return h


def _mix_int(h: int) -> int:
    h = ((h ^ (h >> 31)) * _MIX_INT) & _MASK
    return h ^ (h >> 29)


def _poly_int(text: str) -> int:
    h = 0
    for ch in text:
        h = (h * _MULTIPLIER_INT + ord(ch)) & _MASK
    return h


def _add_block(row: dict[int, float], columns: Sequence[int], offset: int) -> None:
    """Add 1/sqrt(len(columns)) at each column (repeats add up), as the batch does."""
    if not columns:
        return
    value = 1.0 / len(columns) ** 0.5
    for col in columns:
        key = offset + col
        row[key] = row.get(key, 0.0) + value


def word_column(gram: str, n_features: int) -> int:
    """The word-block column of a lower-cased word or word pair ("a b"), hashed exactly as
    ``transform`` hashes it (pure Python: evidence names the n-grams that weigh most)."""
    parts = gram.split(" ")
    if len(parts) == 1:
        key = (_poly_int(parts[0]) + _WORD_SALT_INT) & _MASK
    else:
        left, right = (_poly_int(p) for p in parts)
        key = (left * _PAIR_INT + right + _PAIR_SALT_INT) & _MASK
    return _mix_int(key) % n_features


@dataclass
class _Joined:
    """Every text lower-cased, padded with a space each side, joined by NUL separators."""

    text: str
    codes: U64
    starts: Ints
    row_of: Ints
    """For every code point, the index of its text (separators belong to the text before)."""


def _join(texts: Sequence[str]) -> _Joined:
    padded = [f" {t.lower()} ".replace("\x00", " ") for t in texts]
    joined = "\x00".join(padded) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 1 for t in padded), dtype=np.int64, count=len(padded))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    row_of = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
    return _Joined(joined, codes.astype(np.uint64), starts, row_of)


def _is_word(codes: U64) -> npt.NDArray[np.bool_]:
    """Per code point: a word character (``\\w``: ``str.isalnum()`` or underscore)."""
    small = codes < 128
    out = np.zeros(codes.shape[0], dtype=np.bool_)
    out[small] = _ASCII_WORD[codes[small].astype(np.int64)]
    if not small.all():
        wide = ~small
        values, inverse = np.unique(codes[wide], return_inverse=True)
        table = np.fromiter(
            (chr(int(c)).isalnum() for c in values), dtype=np.bool_, count=values.shape[0]
        )
        out[wide] = table[inverse]
    return out


class _PrefixHash:
    """Polynomial hash of any span [a, b) in O(1): M^(b-1) * (S[b] - S[a]), where
    S[i] = sum_{j<i} c_j M^-j, in wrapping 64-bit arithmetic (M is odd, so invertible)."""

    def __init__(self, codes: U64) -> None:
        n = codes.shape[0]
        powers = np.empty(n + 1, dtype=np.uint64)
        inverse = np.empty(n + 1, dtype=np.uint64)
        powers[0] = inverse[0] = 1
        powers[1:] = _MULTIPLIER
        inverse[1:] = _INVERSE
        np.multiply.accumulate(powers, out=powers)
        np.multiply.accumulate(inverse, out=inverse)
        self.powers = powers
        self.sums = np.empty(n + 1, dtype=np.uint64)
        self.sums[0] = 0
        np.cumsum(codes * inverse[:n], out=self.sums[1:])

    def span(self, start: Ints, end: Ints) -> U64:
        out: U64 = self.powers[end - 1] * (self.sums[end] - self.sums[start])
        return out


def _scaled(rows: Ints, n_rows: int) -> Floats:
    """1/sqrt(n-grams in the row) for each entry of ``rows``."""
    counts = np.bincount(rows, minlength=n_rows).astype(np.float64)
    scale = np.zeros(n_rows, dtype=np.float64)
    np.divide(1.0, np.sqrt(counts), out=scale, where=counts > 0)
    out: Floats = scale[rows]
    return out


class TextVectoriser:
    """Turns message texts into one CSR matrix: [word n-grams | char n-grams | lexicon]."""

    def __init__(self, config: TextFeatureConfig) -> None:
        self.config = config

    def _words(self, joined: _Joined, hashes: _PrefixHash) -> tuple[Ints, Ints]:
        word = _is_word(joined.codes)
        before = np.r_[False, word[:-1]]
        after = np.r_[word[1:], False]
        starts = np.flatnonzero(word & ~before)
        ends = np.flatnonzero(word & ~after) + 1
        uni = hashes.span(starts, ends)
        rows = joined.row_of[starts]
        pair = rows[1:] == rows[:-1]
        bi = uni[:-1][pair] * _PAIR + uni[1:][pair] + _PAIR_SALT
        n = np.uint64(self.config.word_features)
        cols = np.concatenate(((_mix(uni + _WORD_SALT) % n), (_mix(bi) % n))).astype(np.int64)
        return np.concatenate((rows, rows[1:][pair])), cols

    def _chars(self, joined: _Joined, hashes: _PrefixHash) -> tuple[Ints, Ints]:
        total = joined.codes.shape[0]
        separators = np.concatenate(([0], np.cumsum(joined.codes == _SEPARATOR)))
        rows_parts: list[Ints] = []
        cols_parts: list[Ints] = []
        n_features = np.uint64(self.config.char_features)
        for n in range(self.config.char_min, self.config.char_max + 1):
            if total < n:
                continue
            positions = np.flatnonzero(separators[n:] == separators[: total - n + 1])
            h = hashes.span(positions, positions + n) + np.uint64(n)
            rows_parts.append(joined.row_of[positions])
            cols_parts.append((_mix(h) % n_features).astype(np.int64))
        if not rows_parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows_parts), np.concatenate(cols_parts)

    def transform_with_hits(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, Floats]:
        """One row per text (texts already truncated), and the (texts, 6) lexicon hits."""
        n_rows = len(texts)
        config = self.config
        if n_rows == 0:
            return sp.csr_matrix((0, config.dimension)), np.zeros((0, N_LEXICON))
        joined = _join(texts)
        hashes = _PrefixHash(joined.codes)
        word_rows, word_cols = self._words(joined, hashes)
        rows_parts = [word_rows]
        cols_parts = [word_cols]
        values_parts = [_scaled(word_rows, n_rows)]
        if config.char_bits > 0:
            char_rows, char_cols = self._chars(joined, hashes)
            rows_parts.append(char_rows)
            cols_parts.append(char_cols + config.word_features)
            values_parts.append(_scaled(char_rows, n_rows))
        if config.use_lexicon:
            hits = stage_hits_joined(joined.text, joined.starts, n_rows)
        else:
            hits = np.zeros((n_rows, N_LEXICON), dtype=np.float64)
        hit_rows, hit_stages = np.nonzero(hits)
        rows_parts.append(hit_rows.astype(np.int64))
        cols_parts.append(hit_stages.astype(np.int64) + config.word_features + config.char_features)
        values_parts.append(np.full(hit_rows.shape[0], config.lexicon_weight))
        rows = np.concatenate(rows_parts)
        order = np.argsort(rows, kind="stable")  # merges a few sorted runs: near linear
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        matrix = sp.csr_matrix(
            (np.concatenate(values_parts)[order], np.concatenate(cols_parts)[order], indptr),
            shape=(n_rows, config.dimension),
        )
        return matrix, hits

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One row per text (texts already truncated); a column may repeat within a row
        (repeated n-grams), which sparse products sum; ``sum_duplicates`` if needed."""
        return self.transform_with_hits(texts)[0]

    def sparse_row(self, text: str) -> tuple[Ints, Floats]:
        """The row of ``transform([text])`` as (columns, values), built in plain Python
        (no array set-up per call): the incremental scorer's fast path. Equal to the batch
        row up to float rounding (repeats are summed here, added in the sparse product)."""
        config = self.config
        padded = f" {text.lower()} ".replace("\x00", " ")
        row: dict[int, float] = {}
        n_words = config.word_features
        tokens = [_poly_int(t) for t in _TOKEN.findall(padded)]
        grams = [(u + _WORD_SALT_INT) & _MASK for u in tokens]
        grams += [(a * _PAIR_INT + b + _PAIR_SALT_INT) & _MASK for a, b in pairwise(tokens)]
        _add_block(row, [_mix_int(g) % n_words for g in grams], 0)
        if config.char_bits > 0:
            prefix = [0]
            for ch in padded:
                prefix.append((prefix[-1] * _MULTIPLIER_INT + ord(ch)) & _MASK)
            n_chars = config.char_features
            columns: list[int] = []
            for n in range(config.char_min, config.char_max + 1):
                power = pow(_MULTIPLIER_INT, n, 1 << 64)
                for i in range(len(padded) - n + 1):
                    h = (prefix[i + n] - prefix[i] * power + n) & _MASK
                    columns.append(_mix_int(h) % n_chars)
            _add_block(row, columns, n_words)
        if config.use_lexicon:
            hits = stage_hits_joined(padded + "\x00", np.zeros(1, dtype=np.int64), 1)[0]
            lexicon_start = n_words + config.char_features
            for j in np.flatnonzero(hits).tolist():
                row[lexicon_start + j] = config.lexicon_weight
        columns_out = np.fromiter(row.keys(), dtype=np.int64, count=len(row))
        values = np.fromiter(row.values(), dtype=np.float64, count=len(row))
        return columns_out, values

    def word_columns(self, ngrams: Sequence[str]) -> list[int]:
        """The word-block column of each (lower-cased) word n-gram, hashed as ``transform``
        hashes it: names the n-grams that weigh most in a message (evidence)."""
        n = self.config.word_features
        return [word_column(g, n) for g in ngrams]
