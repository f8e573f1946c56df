"""Turning one field value into n-gram tokens and per-token bit counts, as clkhash does."""

from __future__ import annotations

import contextlib
from datetime import datetime

from safehold.identity.clk_schema import ClkField

_CLKHASH_DATE_OUTPUT = "%Y%m%d"


def format_value(field: ClkField, value: str) -> str:
    """clkhash ``FieldSpec.format_value``: swap a missing-value sentinel, reformat dates.

    Raises ``ValueError`` (without the value) when a date does not match the field format."""
    if field.missing_value is not None and value == field.missing_value[0]:
        return field.missing_value[1]
    if field.date_format is None:
        return value
    parsed = None
    # Reported below, unchained: library messages may quote the value.
    with contextlib.suppress(ValueError):
        parsed = datetime.strptime(value, field.date_format)
    if parsed is None:
        raise ValueError(f"field {field.identifier!r}: value does not match {field.date_format}")
    return parsed.strftime(_CLKHASH_DATE_OUTPUT)


def tokenise(field: ClkField, word: str) -> list[str]:
    """clkhash ``NgramComparison.tokenize``: n-grams padded with n-1 spaces on each side,
    optionally prefixed with their 1-based position. Duplicates are kept, as in clkhash."""
    if not word:
        return []
    n = field.ngram
    if n > 1:
        pad = " " * (n - 1)
        word = f"{pad}{word}{pad}"
    grams = [word[i : i + n] for i in range(len(word) - n + 1)]
    if field.positional:
        return [f"{i + 1} {gram}" for i, gram in enumerate(grams)]
    return grams


def bits_per_token(field: ClkField, num_tokens: int) -> list[int]:
    """clkhash strategies: a fixed k per token, or a per-feature budget where the first
    ``budget % num_tokens`` tokens get one extra bit."""
    if field.bits_per_token is not None:
        return [field.bits_per_token] * num_tokens
    assert field.bits_per_feature is not None
    k, residue = divmod(field.bits_per_feature, num_tokens)
    return [k + 1] * residue + [k] * (num_tokens - residue)
