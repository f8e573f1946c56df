"""API keys and passwords: only Argon2 hashes are stored, secrets are shown once.

A key reads ``shk_<key id>_<secret>``. The key id is public and finds the row; the secret
is checked against its Argon2 hash. Argon2 is deliberately slow, so a key that has once
verified is remembered for a short while as a SHA-256 digest compared in constant time;
revocation is still seen at once, because the row is read on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

KEY_PREFIX = "shk"
_HASHER = PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) defaults


class MalformedKeyError(ValueError):
    """Not a Safehold API key at all (the message never repeats the key)."""


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret_hash: str
    plaintext: str  # shown once to whoever issued it, never stored


def new_api_key() -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(
        key_id=key_id,
        secret_hash=_HASHER.hash(secret),
        plaintext=f"{KEY_PREFIX}_{key_id}_{secret}",
    )


def split_api_key(presented: str) -> tuple[str, str]:
    """(key id, secret) of a presented key, or MalformedKeyError."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 16 or not parts[2]:
        raise MalformedKeyError("not a Safehold API key (expected shk_<id>_<secret>)")
    return parts[1], parts[2]


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_secret(secret_hash: str, secret: str) -> bool:
    """Argon2 verification (constant time inside the library)."""
    try:
        return _HASHER.verify(secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class VerifiedKeyCache:
    """Remembers recently verified keys as SHA-256 digests, so that each request does not
    pay for Argon2. Entries expire after ``ttl`` seconds; a wrong secret is never cached."""

    def __init__(self, ttl: float = 300.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str, secret_hash: str, secret: str) -> bool:
        digest = hashlib.sha256(f"{secret_hash}\0{secret}".encode()).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(key_id)
        if cached is not None and cached[1] > now:
            return hmac.compare_digest(cached[0], digest)
        if not verify_secret(secret_hash, secret):
            return False
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key_id] = (digest, now + self.ttl)
        return True
