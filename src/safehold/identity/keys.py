"""The coalition key: a versioned secret that must never be printed."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_BYTES = 32
MAX_KEY_VERSION = 1_000_000  # the bound SubjectRef.key_version accepts


@dataclass(frozen=True, eq=False, repr=False)
class CoalitionKey:
    """A coalition secret and its version.

    ``repr``/``str`` show only the version and a fingerprint, so a key that ends up in a log
    line, traceback or debugger does not leak. Purpose-specific keys are derived with
    :meth:`derive`, so the raw secret is never used directly."""

    version: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            raise TypeError("coalition key version must be an int")
        if not 1 <= self.version <= MAX_KEY_VERSION:
            raise ValueError(f"coalition key version must be between 1 and {MAX_KEY_VERSION}")
        if not isinstance(self.secret, bytes):
            raise TypeError("coalition secret must be bytes")
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"coalition secret must be at least {MIN_SECRET_BYTES} bytes")

    @property
    def fingerprint(self) -> str:
        """A short non-secret id (operators compare it to check members hold the same key)."""
        return hashlib.sha256(b"safehold/fingerprint\x00" + self.secret).hexdigest()[:16]

    def derive(self, info: bytes, length: int = 32) -> bytes:
        """HKDF-SHA256 subkey for one purpose; ``info`` names the purpose and key version."""
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(
            self.secret
        )

    def __repr__(self) -> str:
        return f"CoalitionKey(version={self.version}, fingerprint={self.fingerprint})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoalitionKey):
            return NotImplemented
        return self.version == other.version and hmac.compare_digest(self.secret, other.secret)

    def __hash__(self) -> int:
        return hash((self.version, self.fingerprint))
