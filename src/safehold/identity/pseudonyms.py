"""Keyed pseudonyms: HMAC-SHA256 of a normalised identifier under a versioned coalition key."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from functools import partial
from typing import Literal

from safehold.exchange.subjects import IdentifierKind, SubjectRef
from safehold.identity.email_address import normalise_email
from safehold.identity.errors import IdentifierError
from safehold.identity.keys import CoalitionKey
from safehold.identity.normalise import normalise_identifier
from safehold.identity.phone import DEFAULT_REGION

OnInvalid = Literal["raise", "none"]


def pseudonym_info(version: int) -> bytes:
    """HKDF ``info`` for the pseudonym subkey: binding the version means rotating the version
    changes every pseudonym even if the secret bytes were reused."""
    return b"safehold/pseudonym/v%d" % version


def _message(kind: IdentifierKind, normalised: str) -> bytes:
    """Domain-separate by kind (NUL cannot occur in a kind name) so kinds never collide."""
    return kind.value.encode("ascii") + b"\x00" + normalised.encode("utf-8")


class Pseudonymiser:
    """Turns raw identifiers into :class:`SubjectRef` pseudonyms under one coalition key.

    ``phone_region`` and ``email_provider_rules`` change the normalised form, so every member
    of a coalition must use the same values or their pseudonyms will not match."""

    def __init__(
        self,
        key: CoalitionKey,
        *,
        phone_region: str = DEFAULT_REGION,
        email_provider_rules: bool = False,
    ) -> None:
        self._version = key.version
        self._subkey = key.derive(pseudonym_info(key.version))
        self._template = hmac.new(self._subkey, digestmod="sha256")
        self.phone_region = phone_region
        self.email_provider_rules = email_provider_rules

    @property
    def key_version(self) -> int:
        """Version of the coalition key; it travels with every pseudonym."""
        return self._version

    def __repr__(self) -> str:
        return f"Pseudonymiser(key_version={self._version}, phone_region={self.phone_region!r})"

    def normalise(
        self, kind: IdentifierKind | str, raw: str, *, platform: str | None = None
    ) -> str:
        """Normalise with this pseudonymiser's coalition-wide settings."""
        return normalise_identifier(
            kind,
            raw,
            platform=platform,
            phone_region=self.phone_region,
            email_provider_rules=self.email_provider_rules,
        )

    def pseudonym_of_normalised(self, kind: IdentifierKind | str, normalised: str) -> str:
        """HMAC hex of an already normalised value (callers must have normalised it)."""
        h = self._template.copy()
        h.update(_message(IdentifierKind(kind), normalised))
        return h.hexdigest()

    def pseudonymise(
        self, kind: IdentifierKind | str, raw_value: str, *, platform: str | None = None
    ) -> SubjectRef:
        """Normalise ``raw_value`` then return its keyed pseudonym as a :class:`SubjectRef`."""
        kind = IdentifierKind(kind)
        normalised = self.normalise(kind, raw_value, platform=platform)
        return SubjectRef(
            kind=kind,
            pseudonym=self.pseudonym_of_normalised(kind, normalised),
            key_version=self._version,
        )

    def pseudonymise_many(
        self,
        kind: IdentifierKind | str,
        values: Sequence[str | None],
        *,
        platform: str | Sequence[str | None] | None = None,
        on_invalid: OnInvalid = "raise",
        already_normalised: bool = False,
    ) -> list[str | None]:
        """Pseudonymise a column of values to hex strings, ``None`` where a value is missing.

        ``platform`` is one id for the whole column or one per value. With
        ``on_invalid="none"`` values that fail normalisation become ``None`` instead of
        raising. Repeated values are computed once. ``already_normalised=True`` skips
        normalisation for values that came out of this package's normalisers (the
        phone-number library dominates the cost otherwise); it is the caller's promise, and
        for usernames and account ids the values then already carry their platform prefix."""
        kind = IdentifierKind(kind)
        if already_normalised and platform is not None:
            raise ValueError("already normalised values carry their platform; pass no platform")
        if platform is not None and not isinstance(platform, str):
            if len(platform) != len(values):
                raise ValueError("pass one platform id per value, or a single platform id")
            return [
                None if v is None else self._one_or_none(kind, v, p, on_invalid)
                for v, p in zip(values, platform, strict=True)
            ]
        normalise = self._column_normaliser(kind, platform, already_normalised)
        prefix = _message(kind, "")
        copy = self._template.copy
        unique: dict[str, str | None] = dict.fromkeys(v for v in values if v is not None)
        for value in unique:
            try:
                normalised = normalise(value)
            except IdentifierError:
                if on_invalid == "raise":
                    raise
                continue
            h = copy()
            h.update(prefix + normalised.encode("utf-8"))
            unique[value] = h.hexdigest()
        return [None if v is None else unique[v] for v in values]

    def _column_normaliser(
        self, kind: IdentifierKind, platform: str | None, already_normalised: bool
    ) -> Callable[[str], str]:
        """Resolve kind, platform and settings once per column rather than once per value."""
        if already_normalised:
            return str
        if kind is IdentifierKind.EMAIL and platform is None:
            return partial(normalise_email, provider_rules=self.email_provider_rules)
        return partial(self.normalise, kind, platform=platform)

    def _one_or_none(
        self, kind: IdentifierKind, value: str, platform: str | None, on_invalid: OnInvalid
    ) -> str | None:
        try:
            normalised = self.normalise(kind, value, platform=platform)
        except IdentifierError:
            if on_invalid == "raise":
                raise
            return None
        return self.pseudonym_of_normalised(kind, normalised)
