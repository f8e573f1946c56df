"""Reading and writing coalition secret files, refusing any that others could read."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safehold.identity.errors import SecretError
from safehold.identity.keys import MAX_KEY_VERSION, MIN_SECRET_BYTES, CoalitionKey

FILE_FORMAT = "safehold-coalition-key"
_MODE = 0o600


def _encode(key: CoalitionKey) -> bytes:
    document = {
        "format": FILE_FORMAT,
        "version": key.version,
        "secret": base64.b64encode(key.secret).decode("ascii"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _write_fd(fd: int, data: bytes) -> None:
    try:
        os.fchmod(fd, _MODE)  # the umask can only narrow the mode, but be explicit
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def generate_secret_file(
    path: str | Path, version: int, *, overwrite: bool = False
) -> CoalitionKey:
    """Create a secret file with 32 fresh random bytes, readable by its owner only (0600).

    Refuses to replace an existing file unless ``overwrite`` is set, because replacing a key
    silently would orphan every pseudonym made with it. An overwrite is atomic: the new file
    is written beside the old one and renamed over it."""
    target = Path(path)
    key = CoalitionKey(version=version, secret=secrets.token_bytes(MIN_SECRET_BYTES))
    data = _encode(key)
    if not overwrite:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _MODE)
        except FileExistsError:
            raise SecretError(
                f"{target}: a secret file already exists; "
                "pass overwrite=True only if you mean to replace the coalition key"
            ) from None
        _write_fd(fd, data)
        return key
    fd, tmp_name = tempfile.mkstemp(prefix=".safehold-key-", dir=target.parent)  # mode 0600
    tmp = Path(tmp_name)
    try:
        _write_fd(fd, data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return key


def _read_private(path: Path) -> bytes:
    """Read the file after checking, on the open descriptor, that only its owner can read it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise SecretError(
            f"{path}: secret file not found; create it with generate_secret_file() "
            "or check the configured path"
        ) from None
    except OSError as exc:
        raise SecretError(
            f"{path}: secret file cannot be opened ({exc.strerror}); "
            "check that this user owns it and can read it"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SecretError(f"{path}: not a regular file; point at the secret file itself")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise SecretError(
                f"{path}: permissions {mode:04o} let other users read the secret; "
                f"run 'chmod 600 {path}' (and rotate the key if others may have read it)"
            )
        chunks = []
        while chunk := os.read(fd, 65_536):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise SecretError(
            f"{path}: secret file cannot be read ({exc.strerror}); check the file and disk"
        ) from None
    finally:
        os.close(fd)


def _malformed(path: Path, what: str) -> SecretError:
    return SecretError(
        f"{path}: malformed secret file ({what}); restore it from your key backup or "
        "generate a new one with generate_secret_file()"
    )


def _parse(path: Path, data: bytes) -> dict[str, Any]:
    document: object = None
    # Reported below, unchained: library messages may quote the value.
    with contextlib.suppress(UnicodeDecodeError, json.JSONDecodeError):
        document = json.loads(data.decode("utf-8"))
    if not isinstance(document, dict):
        raise _malformed(path, "not a JSON object")
    if document.get("format") != FILE_FORMAT:
        raise _malformed(path, f"'format' is not {FILE_FORMAT!r}")
    return document


def load_coalition_key(path: str | Path) -> CoalitionKey:
    """Load a coalition key, refusing files that are missing, readable by group or others,
    malformed, or hold a secret shorter than 32 bytes. Errors name the path and the fix."""
    source = Path(path)
    document = _parse(source, _read_private(source))
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _malformed(source, "'version' must be an integer")
    if not 1 <= version <= MAX_KEY_VERSION:
        raise _malformed(source, f"'version' must be between 1 and {MAX_KEY_VERSION}")
    encoded = document.get("secret")
    secret = None
    if isinstance(encoded, str):
        # Reported below, unchained: library messages may quote the value.
        with contextlib.suppress(binascii.Error, ValueError):
            secret = base64.b64decode(encoded, validate=True)
    if secret is None:
        raise _malformed(source, "'secret' must be standard base64")
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretError(
            f"{source}: the secret is {len(secret)} bytes, fewer than the required "
            f"{MIN_SECRET_BYTES}; generate a new key with generate_secret_file()"
        )
    if not isinstance(document.get("created", ""), str):
        raise _malformed(source, "'created' must be a string")
    return CoalitionKey(version=version, secret=secret)
