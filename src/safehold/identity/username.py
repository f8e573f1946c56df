"""Normalising platform usernames and account ids, which only mean something per platform."""

from __future__ import annotations

import re
import unicodedata

from safehold.identity.errors import IdentifierError

_PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)


def _has_space_or_control(text: str) -> bool:
    """True for any whitespace, separator or control/format character.

    ``str.isprintable`` is False for every C* and Z* character except the ASCII space, and
    runs in C, which matters for million-row columns."""
    return " " in text or not text.isprintable()


def _fold_handle(handle: str) -> str:
    """NFKC, trim, drop leading '@' and lowercase, repeated until stable.

    One pass is not always enough: NFKC can turn a caseless character into a capital
    (modifier letter capital A becomes A), which the next lowercase then changes."""
    text = handle
    for _ in range(8):
        folded = unicodedata.normalize("NFKC", text).strip().lstrip("@").strip().lower()
        if folded == text:
            break
        text = folded
    return text


def normalise_platform_id(platform: str) -> str:
    """Return the platform id stripped and lowercased.

    The id becomes part of every username key, so it is restricted to ``[a-z0-9._-]`` (and
    never ``:``, the separator) to keep keys unambiguous."""
    text = platform.strip().lower() if isinstance(platform, str) else ""
    if not _PLATFORM.fullmatch(text):
        raise IdentifierError(
            "platform id",
            "it must be 1-64 characters of a-z, 0-9, '.', '_' or '-'",
            "use the coalition's registered platform id",
        )
    return text


def normalise_username(platform: str, username: str) -> str:
    """Return ``"<platform>:<handle>"`` for a username on a platform.

    Normalised: NFKC (so full-width and compatibility characters match their plain forms),
    surrounding whitespace, leading ``@`` characters, and case (lowercased: handles on the
    platforms we ingest are case-insensitive). The platform id prefix makes the same handle on
    two platforms two different keys, because they are usually two different people.

    Deliberately NOT normalised: dots, underscores and look-alike characters (confusables);
    platforms treat these as distinct, so folding them would merge different accounts.
    Rejected: empty handles and handles containing spaces (pass the handle, not the display
    name)."""
    prefix = normalise_platform_id(platform)
    if not isinstance(username, str):
        raise IdentifierError("username", "expected text", "pass the handle as a string")
    text = _fold_handle(username)
    if not text:
        raise IdentifierError("username", "it is empty", "leave the field missing instead")
    if _has_space_or_control(text):
        raise IdentifierError(
            "username",
            "it contains spaces or control characters",
            "pass the handle, not the display name",
        )
    return f"{prefix}:{text}"


def normalise_account_id(platform: str, account_id: str) -> str:
    """Return ``"<platform>:<id>"`` for a platform's internal account id.

    Normalised: NFKC and surrounding whitespace only. Deliberately NOT normalised: case,
    because account ids are opaque and some platforms issue case-sensitive ones."""
    prefix = normalise_platform_id(platform)
    if not isinstance(account_id, str):
        raise IdentifierError("account id", "expected text", "pass the id as a string")
    text = unicodedata.normalize("NFKC", account_id).strip()
    if not text:
        raise IdentifierError("account id", "it is empty", "leave the field missing instead")
    if _has_space_or_control(text):
        raise IdentifierError(
            "account id",
            "it contains spaces or control characters",
            "pass the platform's id exactly as exported",
        )
    return f"{prefix}:{text}"
