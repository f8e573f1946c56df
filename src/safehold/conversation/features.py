"""Message text as a sparse feature row: hashed word and character n-grams plus the stage
lexicon.

Why hashing: no vocabulary to store or ship, one vectorised call over a whole batch, and
the same row whether a message is scored alone (incremental) or among a million (batch).
Character n-grams keep typos and text-speak close to the words they stand for; they are
hashed with numpy over all texts at once (a rolling polynomial hash over code points),
several times faster than a per-text analyser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils import murmurhash3_32

from safehold.conversation.lexicon import stage_hits

MAX_CHARS = 2000
"""Longer messages are cut to this many characters before scoring (with a note)."""

TOKEN_PATTERN = r"(?u)\b\w+\b"  # noqa: S105 (a regular expression, not a secret)
"""Word tokens, one-letter words included ("u", "r" carry meaning in text-speak)."""

_SEPARATOR = 0
_MULTIPLIER_INT = 0x100000001B3
_MIX_INT = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_MULTIPLIER = np.uint64(_MULTIPLIER_INT)
_MIX = np.uint64(_MIX_INT)


def _normalised_into(row: dict[int, float], counts: dict[int, float], offset: int) -> None:
    norm = sum(v * v for v in counts.values()) ** 0.5
    if norm > 0.0:
        for col, value in counts.items():
            row[offset + col] = value / norm


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

    @property
    def word_features(self) -> int:
        return 1 << self.word_bits

    @property
    def char_features(self) -> int:
        return 1 << self.char_bits if self.char_bits > 0 else 0

    @property
    def dimension(self) -> int:
        return self.word_features + self.char_features + 6


def char_ngrams(texts: Sequence[str], n_features: int, sizes: range) -> sp.csr_matrix:
    """L2-normalised counts of hashed character n-grams of `` text `` (lower-cased, padded
    with one space each side), one row per text, for every n in ``sizes``."""
    n_texts = len(texts)
    padded = [f" {t.lower()} ".replace("\x00", " ") for t in texts]
    joined = "\x00".join(padded)
    encoded = joined.encode("utf-32-le", "surrogatepass")
    codes = np.frombuffer(encoded, dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(t) + 1 for t in padded), dtype=np.int64, count=n_texts)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    separators = np.concatenate(([0], np.cumsum(codes == _SEPARATOR)))
    rows_parts: list[npt.NDArray[np.int64]] = []
    cols_parts: list[npt.NDArray[np.int64]] = []
    total = codes.shape[0]
    for n in sizes:
        if total < n:
            continue
        positions = np.arange(total - n + 1)
        clean = separators[positions + n] - separators[positions] == 0
        h = np.zeros(total - n + 1, dtype=np.uint64)
        for k in range(n):
            h = h * _MULTIPLIER + codes[k : total - n + 1 + k]
        h = h + np.uint64(n)
        h = (h ^ (h >> np.uint64(31))) * _MIX
        h ^= h >> np.uint64(29)
        keep = positions[clean]
        rows_parts.append(np.searchsorted(starts, keep, side="right") - 1)
        cols_parts.append((h[clean] % np.uint64(n_features)).astype(np.int64))
    if not rows_parts:
        return sp.csr_matrix((n_texts, n_features), dtype=np.float64)
    rows = np.concatenate(rows_parts)
    cols = np.concatenate(cols_parts)
    matrix = sp.csr_matrix(
        (np.ones(rows.shape[0], dtype=np.float64), (rows, cols)), shape=(n_texts, n_features)
    )
    matrix.sum_duplicates()
    return normalize(matrix, norm="l2", copy=False)


class TextVectoriser:
    """Turns message texts into one CSR matrix: [word n-grams | char n-grams | lexicon]."""

    def __init__(self, config: TextFeatureConfig) -> None:
        self.config = config
        self._word: HashingVectorizer = HashingVectorizer(
            n_features=config.word_features,
            analyzer="word",
            ngram_range=(1, 2),
            token_pattern=TOKEN_PATTERN,
            alternate_sign=False,
            norm="l2",
            dtype=np.float64,
        )

        self._analyse = self._word.build_analyzer()

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One row per text (texts already truncated)."""
        blocks = [self._word.transform(texts)]
        if self.config.char_bits > 0:
            sizes = range(self.config.char_min, self.config.char_max + 1)
            blocks.append(char_ngrams(texts, self.config.char_features, sizes))
        blocks.append(sp.csr_matrix(stage_hits(texts) * self.config.lexicon_weight))
        return sp.hstack(blocks, format="csr")

    def sparse_row(self, text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The same row as ``transform([text])`` as (columns, values), built without
        scipy or numpy batch machinery: the incremental scorer's fast path."""
        config = self.config
        row: dict[int, float] = {}
        words: dict[int, float] = {}
        n_words = config.word_features
        for gram in self._analyse(text):
            col = abs(int(murmurhash3_32(gram, seed=0))) % n_words
            words[col] = words.get(col, 0.0) + 1.0
        _normalised_into(row, words, 0)
        if config.char_bits > 0:
            chars: dict[int, float] = {}
            padded = f" {text.lower()} ".replace("\x00", " ")
            codes = [ord(ch) for ch in padded]
            n_chars = config.char_features
            for n in range(config.char_min, config.char_max + 1):
                for i in range(len(codes) - n + 1):
                    h = 0
                    for c in codes[i : i + n]:
                        h = (h * _MULTIPLIER_INT + c) & _MASK
                    h = (h + n) & _MASK
                    h = ((h ^ (h >> 31)) * _MIX_INT) & _MASK
                    h ^= h >> 29
                    col = h % n_chars
                    chars[col] = chars.get(col, 0.0) + 1.0
            _normalised_into(row, chars, n_words)
        lexicon_start = config.word_features + config.char_features
        for j, hit in enumerate(stage_hits([text])[0].tolist()):
            if hit:
                row[lexicon_start + j] = hit * config.lexicon_weight
        columns = np.fromiter(row.keys(), dtype=np.int64, count=len(row))
        values = np.fromiter(row.values(), dtype=np.float64, count=len(row))
        return columns, values

    def word_columns(self, ngrams: Sequence[str]) -> list[int]:
        """The word-block column of each (lower-cased) word n-gram, hashed as the word
        vectoriser hashes it: names the n-grams that weigh most in a message (evidence)."""
        n = self.config.word_features
        return [abs(int(murmurhash3_32(g, seed=0))) % n for g in ngrams]
