"""Hand-built contact events and flags for the klaxon's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from safehold.klaxon.events import ClockLimits, prepare_events
from safehold.klaxon.flags import FlagSet, load_flags, write_flags

MEMBER = "plat-test"
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, midday UTC
CLOCK = ClockLimits(now=datetime(2026, 6, 1, tzinfo=UTC))


def event(
    sender: str,
    recipient: str,
    at: datetime,
    *,
    channel: str = "direct_message",
    first_contact: bool = False,
    recipient_band: str | None = "13_15",
    sender_band: str | None = "35_44",
    conversation_id: str | None = None,
) -> dict[str, Any]:
    return {
        "sender_account": sender,
        "recipient_account": recipient,
        "occurred_at": at,
        "channel": channel,
        "first_contact": first_contact,
        "recipient_age_band": recipient_band,
        "sender_age_band": sender_band,
        "conversation_id": conversation_id,
    }


def frame(rows: list[dict[str, Any]], *, first_id: int = 0) -> pl.DataFrame:
    """Member-layout contact events, ids in row order from ``first_id``."""
    ids = [f"{MEMBER}:e{i:06d}" for i in range(first_id, first_id + len(rows))]
    return pl.DataFrame(
        [{"event_id": i, **r} for i, r in zip(ids, rows, strict=True)],
        schema={
            "event_id": pl.Utf8,
            "sender_account": pl.Utf8,
            "recipient_account": pl.Utf8,
            "occurred_at": pl.Datetime("us", "UTC"),
            "channel": pl.Utf8,
            "first_contact": pl.Boolean,
            "recipient_age_band": pl.Utf8,
            "sender_age_band": pl.Utf8,
            "conversation_id": pl.Utf8,
        },
    )


def prepared(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return prepare_events(frame(rows), source="test", member_id=MEMBER, clock=CLOCK)


def flags(
    folder: Path,
    *,
    registry: tuple[str, ...] = (),
    model: dict[str, str] | None = None,
    minors: dict[str, str] | None = None,
    vulnerable: tuple[str, ...] = (),
    conversation_risk: dict[str, float] | None = None,
    member_id: str = MEMBER,
    model_version: str | None = None,
) -> FlagSet:
    senders = [
        {
            "account": a,
            "source": "registry",
            "band": None,
            "score": None,
            "reasons": ["registry match"],
        }
        for a in registry
    ] + [
        {"account": a, "source": "model", "band": b, "score": 0.9, "reasons": ["model band " + b]}
        for a, b in (model or {}).items()
    ]
    markers = [
        {"account": a, "age_band": b, "vulnerable": a in vulnerable}
        for a, b in (minors or {}).items()
    ] + [
        {"account": a, "age_band": None, "vulnerable": True}
        for a in vulnerable
        if a not in (minors or {})
    ]
    from safehold.klaxon.flags import (
        CONVERSATION_RISK_SCHEMA,
        RECIPIENT_MARKER_SCHEMA,
        SENDER_FLAG_SCHEMA,
    )

    risk = None
    if conversation_risk is not None:
        risk = pl.DataFrame(
            [{"conversation_id": c, "risk": r, "stages": []} for c, r in conversation_risk.items()],
            schema=CONVERSATION_RISK_SCHEMA,
        )
    write_flags(
        folder,
        member_id=member_id,
        senders=pl.DataFrame(senders, schema=SENDER_FLAG_SCHEMA),
        markers=pl.DataFrame(markers, schema=RECIPIENT_MARKER_SCHEMA),
        conversation_risk=risk,
        model_version=model_version,
    )
    return load_flags(folder)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
