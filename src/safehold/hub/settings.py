"""The hub's settings, read from the environment once at start-up (``SAFEHOLD_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from safehold.store.database import data_dir, database_url
from safehold.store.decisions import DEFAULT_FOUR_EYES, KINDS

MIB = 1024 * 1024


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class HubSettings:
    data_dir: Path
    database_url: str
    max_body_bytes: int = 64 * MIB
    """Largest request body accepted (compressed size, as sent)."""
    max_decompressed_bytes: int = 512 * MIB
    """Largest body after gzip decompression: caps gzip bombs."""
    registry_disclose_typology: bool = False
    """Coalition policy: whether a registry match also says the offence typology."""
    registry_checks_per_minute: int = 600_000
    """Accounts a member may check per minute (a token bucket, refilled continuously)."""
    registry_check_burst: int = 100_000
    """Accounts a member may check at once before the per-minute rate applies."""
    max_check_accounts: int = 10_000
    """Accounts in one registry-check request."""
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    """Origins allowed to call the API from a browser; none by default."""
    four_eyes: frozenset[str] = DEFAULT_FOUR_EYES
    """Decision kinds a second reviewer must confirm (store.decisions.KINDS)."""
    secure_cookies: bool = False
    """Mark web cookies Secure even on plain http (behind a TLS-terminating proxy); they
    are always Secure when the request itself came over https."""
    decision_webhooks: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """(member id, URL) pairs: decisions in force are POSTed there, signed (hub.webhooks)."""
    model_dirs: tuple[Path, ...] = field(default_factory=tuple)
    """Released red-flag model folders in use (``SAFEHOLD_MODEL_DIR``, several separated by
    the path separator): monitoring compares precision with their pre-registered minimum."""

    @classmethod
    def from_env(cls, directory: Path | None = None) -> HubSettings:
        base = directory or data_dir()
        origins = os.environ.get("SAFEHOLD_CORS_ORIGINS", "")
        return cls(
            data_dir=base,
            database_url=database_url(base),
            max_body_bytes=_int("SAFEHOLD_MAX_BODY_BYTES", 64 * MIB),
            max_decompressed_bytes=_int("SAFEHOLD_MAX_DECOMPRESSED_BYTES", 512 * MIB),
            registry_disclose_typology=_flag("SAFEHOLD_REGISTRY_DISCLOSE_TYPOLOGY", False),
            registry_checks_per_minute=_int("SAFEHOLD_REGISTRY_CHECKS_PER_MINUTE", 600_000),
            registry_check_burst=_int("SAFEHOLD_REGISTRY_CHECK_BURST", 100_000),
            max_check_accounts=_int("SAFEHOLD_MAX_CHECK_ACCOUNTS", 10_000),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            four_eyes=_kinds("SAFEHOLD_FOUR_EYES", DEFAULT_FOUR_EYES),
            secure_cookies=_flag("SAFEHOLD_SECURE_COOKIES", False),
            decision_webhooks=_pairs("SAFEHOLD_DECISION_WEBHOOKS"),
            model_dirs=_paths("SAFEHOLD_MODEL_DIR"),
        )


def _kinds(name: str, default: frozenset[str]) -> frozenset[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    kinds = frozenset(k.strip() for k in raw.split(",") if k.strip())
    unknown = kinds - set(KINDS)
    if unknown:
        raise ValueError(
            f"{name} names unknown decision kinds {sorted(unknown)}; use some of {list(KINDS)}"
        )
    return kinds


def _pairs(name: str) -> tuple[tuple[str, str], ...]:
    """``member=url,member=url``."""
    found: list[tuple[str, str]] = []
    for item in os.environ.get(name, "").split(","):
        if not item.strip():
            continue
        member, sep, url = item.partition("=")
        if not sep or not member.strip() or not url.strip():
            raise ValueError(f"{name} must read member=url[,member=url...], got {item!r}")
        found.append((member.strip(), url.strip()))
    return tuple(found)


def _paths(name: str) -> tuple[Path, ...]:
    """Folders separated by ``os.pathsep`` (``:`` on Linux)."""
    return tuple(Path(p.strip()) for p in os.environ.get(name, "").split(os.pathsep) if p.strip())
