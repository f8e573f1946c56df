"""Errors that explain what went wrong without ever repeating the identifier or secret."""

from __future__ import annotations


class IdentifierError(ValueError):
    """An identifier could not be normalised.

    The message names the kind of identifier, the reason and the fix, but never the raw value:
    these errors end up in logs, and a log line must not become a copy of someone's email
    address or phone number."""

    def __init__(self, kind: str, reason: str, fix: str) -> None:
        self.kind = kind
        self.reason = reason
        self.fix = fix
        super().__init__(f"invalid {kind}: {reason}; {fix}")

    def __reduce__(self) -> tuple[type[IdentifierError], tuple[str, str, str]]:
        """Pickle by fields so the error survives being sent between processes."""
        return (type(self), (self.kind, self.reason, self.fix))


class SecretError(Exception):
    """A coalition secret file is missing, unsafe or malformed.

    The message names the file and what to do about it, never the secret's contents."""
