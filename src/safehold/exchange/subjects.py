"""References to people and accounts as they travel: keyed pseudonyms, never raw identifiers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from safehold.exchange.base import StrictModel


class IdentifierKind(StrEnum):
    """What a pseudonym was computed from; pseudonyms of different kinds never compare equal."""

    EMAIL = "email"
    PHONE = "phone"
    USERNAME = "username"
    ACCOUNT = "account"


Pseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""HMAC-SHA256 of a normalised identifier under the coalition secret, as 64 lowercase hex."""


class SubjectRef(StrictModel):
    """A keyed pseudonym plus the version of the coalition key that made it.

    The key version travels with the pseudonym so that the coalition secret can be rotated:
    pseudonyms made under different versions are never compared with each other."""

    kind: IdentifierKind = Field(description="The kind of identifier the pseudonym was made from.")
    pseudonym: Pseudonym = Field(description="HMAC-SHA256 (hex) of the normalised identifier.")
    key_version: int = Field(ge=1, le=1_000_000, description="Version of the coalition key used.")
