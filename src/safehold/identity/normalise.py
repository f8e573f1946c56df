"""One entry point that picks the right normaliser for each kind of identifier."""

from __future__ import annotations

from safehold.exchange.subjects import IdentifierKind
from safehold.identity.email_address import normalise_email
from safehold.identity.phone import DEFAULT_REGION, normalise_phone
from safehold.identity.username import normalise_account_id, normalise_username


def normalise_identifier(
    kind: IdentifierKind | str,
    raw: str,
    *,
    platform: str | None = None,
    phone_region: str = DEFAULT_REGION,
    email_provider_rules: bool = False,
) -> str:
    """Normalise ``raw`` as an identifier of ``kind``.

    Usernames and account ids need ``platform`` (they mean nothing without one); emails and
    phone numbers refuse it, so a caller cannot believe it had an effect."""
    kind = IdentifierKind(kind)
    per_platform = kind in (IdentifierKind.USERNAME, IdentifierKind.ACCOUNT)
    if per_platform and platform is None:
        raise ValueError(f"{kind.value} identifiers need a platform id")
    if not per_platform and platform is not None:
        raise ValueError(f"{kind.value} identifiers do not take a platform id")
    if kind is IdentifierKind.EMAIL:
        return normalise_email(raw, provider_rules=email_provider_rules)
    if kind is IdentifierKind.PHONE:
        return normalise_phone(raw, default_region=phone_region)
    assert platform is not None
    if kind is IdentifierKind.USERNAME:
        return normalise_username(platform, raw)
    return normalise_account_id(platform, raw)
