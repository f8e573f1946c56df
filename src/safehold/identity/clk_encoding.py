"""CLK (cryptographic long-term key) Bloom filters, byte-for-byte compatible with clkhash.

Reimplemented rather than imported: clkhash 0.18.3 pins cryptography<41 (with published
CVEs) and bitarray<3 and is unmaintained, so we match its "blakeHash" scheme exactly and
pin that with known-answer vectors produced by clkhash itself."""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from hashlib import blake2b

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from safehold.identity.birth_date import normalise_date_of_birth
from safehold.identity.clk_schema import (
    KDF_KEY_SIZE,
    KDF_KEYS_PER_FIELD,
    PERSON_CLK_SCHEMA,
    ClkSchema,
)
from safehold.identity.clk_tokens import bits_per_token, format_value, tokenise
from safehold.identity.keys import CoalitionKey
from safehold.identity.person_name import normalise_person_name

_SHORTS = struct.Struct("<32H")  # clkhash unpacks native '32H'; little-endian on x86/ARM
_PERSON_FIELDS = ("given_name", "family_name", "dob")
_ISO_DATE = "%Y-%m-%d"  # what normalise_date_of_birth returns


def clk_info(version: int) -> bytes:
    """HKDF ``info`` for the CLK secret, so CLK keys are independent of pseudonym keys."""
    return b"safehold/clk/v%d" % version


def derive_field_keys(secret: bytes, num_fields: int) -> list[bytes]:
    """clkhash ``generate_key_lists`` (HKDF-SHA256, no salt or info, 64-byte keys, two per
    field); returns the first key of each field, the only one blakeHash uses."""
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=num_fields * KDF_KEYS_PER_FIELD * KDF_KEY_SIZE,
        salt=None,
        info=None,
    ).derive(secret)
    step = KDF_KEYS_PER_FIELD * KDF_KEY_SIZE
    return [material[i * step : i * step + KDF_KEY_SIZE] for i in range(num_fields)]


def token_indices(token: bytes, k: int, key: bytes, length: int) -> list[int]:
    """clkhash ``blake_hash_token``: k filter positions from keyed BLAKE2b with salts '0',
    '1', ... each digest read as 32 unsigned shorts, taken modulo the filter length."""
    shorts: list[int] = []
    for i in range((k + 31) // 32):
        digest = blake2b(token, key=key, salt=str(i).encode()).digest()
        shorts.extend(_SHORTS.unpack(digest))
    return [s % length for s in shorts[:k]]


class ClkEncoder:
    """Encodes records into base64 CLKs under one secret and schema."""

    def __init__(self, secret: bytes, schema: ClkSchema = PERSON_CLK_SCHEMA) -> None:
        if len(secret) < 16:
            raise ValueError("CLK secret must be at least 16 bytes")
        self.schema = schema
        self._keys = derive_field_keys(secret, len(schema.fields))
        self._indices = lru_cache(maxsize=2**16)(token_indices)

    @classmethod
    def from_coalition_key(
        cls, key: CoalitionKey, schema: ClkSchema = PERSON_CLK_SCHEMA
    ) -> ClkEncoder:
        """Encoder whose secret is derived from (never equal to) the coalition secret."""
        return cls(key.derive(clk_info(key.version)), schema)

    def __repr__(self) -> str:
        names = ", ".join(f.identifier for f in self.schema.fields)
        return f"ClkEncoder(fields=[{names}], length={self.schema.length})"

    def encode_fields_bytes(self, values: Sequence[str]) -> bytes:
        """The filter for one record (values in schema order), as clkhash's ``tobytes()``:
        bit i of the filter is bit ``7 - i % 8`` of byte ``i // 8`` (big-endian bit order)."""
        fields = self.schema.fields
        if len(values) != len(fields):
            raise ValueError(f"expected {len(fields)} values, got {len(values)}")
        length = self.schema.length
        bloom = bytearray(length // 8)
        for field, key, value in zip(fields, self._keys, values, strict=True):
            tokens = tokenise(field, format_value(field, value))
            if not tokens:
                continue
            for token, k in zip(tokens, bits_per_token(field, len(tokens)), strict=True):
                for index in self._indices(token.encode(field.encoding), k, key, length):
                    bloom[index >> 3] |= 0x80 >> (index & 7)
        return bytes(bloom)

    def encode_fields(self, values: Sequence[str]) -> str:
        """The CLK of one record as base64, clkhash's serialisation."""
        return base64.b64encode(self.encode_fields_bytes(values)).decode("ascii")

    def encode_person(
        self,
        given_name: str | None,
        family_name: str | None,
        date_of_birth: str | date | None,
    ) -> str:
        """Normalise a person's names and date of birth, then encode them.

        Missing parts (``None`` or blank) contribute no bits; anything else must normalise
        or :class:`~safehold.identity.errors.IdentifierError` is raised."""
        fields = self.schema.fields
        if tuple(f.identifier for f in fields) != _PERSON_FIELDS or (
            fields[2].date_format != _ISO_DATE
        ):
            raise ValueError(
                f"encode_person needs a schema with fields {_PERSON_FIELDS} and an ISO dob"
            )
        return self.encode_fields(
            [
                _name_or_missing(given_name),
                _name_or_missing(family_name),
                _dob_or_missing(date_of_birth),
            ]
        )


def _dob_or_missing(value: str | date | None) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return normalise_date_of_birth(value)


def _name_or_missing(value: str | None) -> str:
    return "" if value is None or not value.strip() else normalise_person_name(value)
