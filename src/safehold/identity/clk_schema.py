"""The CLK linkage schema: which fields go into a Bloom filter and how, in clkhash's terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

CLKHASH_COMPATIBLE_VERSION = "0.18.3"
KDF_KEY_SIZE = 64
"""Bytes per derived field key (clkhash's default; also BLAKE2b's maximum key size)."""
KDF_KEYS_PER_FIELD = 2
"""clkhash always derives two keys per field (one per double-hash function); blakeHash uses
only the first, but the count changes which bytes each field gets, so it must match."""


@dataclass(frozen=True)
class ClkField:
    """One field of the schema, mirroring a clkhash v3 ``featureConfig``.

    Exactly one of ``bits_per_token`` (clkhash ``bitsPerToken``: every token inserted k times)
    and ``bits_per_feature`` (``bitsPerFeature``: a fixed budget spread over the tokens, so
    the number of set bits does not reveal the value's length) must be set. ``date_format``
    makes it a clkhash ``date`` field: values are parsed with it and hashed as ``YYYYMMDD``.
    ``missing_value`` is ``(sentinel, replace_with)``: a value equal to the sentinel is
    replaced (and not validated) before tokenising."""

    identifier: str
    ngram: int = 2
    positional: bool = False
    bits_per_token: int | None = None
    bits_per_feature: int | None = None
    date_format: str | None = None
    missing_value: tuple[str, str] | None = None
    encoding: Literal["utf-8"] = "utf-8"

    def __post_init__(self) -> None:
        if (self.bits_per_token is None) == (self.bits_per_feature is None):
            raise ValueError(f"{self.identifier}: set exactly one of bits_per_token/feature")
        if self.ngram < 1:
            raise ValueError(f"{self.identifier}: ngram must be at least 1")

    def to_clkhash(self) -> dict[str, Any]:
        """This field as a clkhash v3 ``featureConfig`` dictionary."""
        strategy = (
            {"bitsPerToken": self.bits_per_token}
            if self.bits_per_token is not None
            else {"bitsPerFeature": self.bits_per_feature}
        )
        hashing: dict[str, Any] = {
            "comparison": {"type": "ngram", "n": self.ngram, "positional": self.positional},
            "strategy": strategy,
            "hash": {"type": "blakeHash"},
        }
        if self.missing_value is not None:
            sentinel, replace_with = self.missing_value
            hashing["missingValue"] = {"sentinel": sentinel, "replaceWith": replace_with}
        fmt: dict[str, Any] = (
            {"type": "date", "format": self.date_format}
            if self.date_format is not None
            else {"type": "string", "encoding": self.encoding}
        )
        return {"identifier": self.identifier, "format": fmt, "hashing": hashing}


@dataclass(frozen=True)
class ClkSchema:
    """A whole schema: the fields in record order and the filter length in bits (clkhash's
    ``l``)."""

    fields: tuple[ClkField, ...]
    length: int = 1024

    def __post_init__(self) -> None:
        if self.length < 8 or self.length & (self.length - 1):
            raise ValueError("length must be a power of two of at least 8 (blakeHash needs it)")
        if self.length > 2**16:
            raise ValueError("length must be at most 65536 (indices are 16-bit)")
        if len({f.identifier for f in self.fields}) != len(self.fields):
            raise ValueError("field identifiers must be unique")

    def to_clkhash(self) -> dict[str, Any]:
        """This schema as a clkhash v3 linkage schema (HKDF-SHA256, no salt or info)."""
        return {
            "version": 3,
            "clkConfig": {
                "l": self.length,
                "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": KDF_KEY_SIZE},
            },
            "features": [f.to_clkhash() for f in self.fields],
        }


PERSON_CLK_SCHEMA = ClkSchema(
    fields=(
        ClkField("given_name", ngram=2, bits_per_feature=200),
        ClkField("family_name", ngram=2, bits_per_feature=200),
        ClkField(
            "dob",
            ngram=1,
            positional=True,
            bits_per_feature=100,
            date_format="%Y-%m-%d",
            missing_value=("", ""),
        ),
    ),
    length=1024,
)
"""The coalition's person schema.

Names: padded bigrams, 200 bits per field whatever the name's length (``bitsPerFeature``),
so popcounts do not reveal name length. Date of birth: the ISO date as ``YYYYMMDD``,
tokenised as positional unigrams (``'1 1'``, ``'2 9'``, ...), 100 bits: each digit keeps
its place, so a one-digit keying error changes one token of eight, and the year's ``19``
is not confused with a day ``19`` as it would be with plain bigrams. A missing date
(empty string) adds no bits. Total fill is roughly 40% of 1024 bits."""
