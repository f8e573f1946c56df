"""Screening a platform's contact events at the hub with the klaxon engine.

Where the flags come from: a sender is flagged when its pseudonym (kind, key version,
pseudonym) is an identifier of an active registry entry (``store.registry``, the same look-up
as a registry check); a recipient is a child when the event carries a minor
``recipient_age_band``. The hub holds no model scores, markers or conversation risk for a
member, so those rules do not fire here (a member with its own flags runs the klaxon
itself). Each request is screened on its own: windowed rules see the events of that request
only. Alert ids are the engine's, so a replay gives the same ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from safehold.exchange import ContactEvent, SubjectRef
from safehold.klaxon.engine import screen
from safehold.klaxon.events import TIME, ClockLimits, prepare_events
from safehold.klaxon.flags import FlagSet
from safehold.klaxon.rules import RuleSet, load_rules
from safehold.store.alerts import NewAlert
from safehold.store.registry import active_identifiers


@cache
def hub_rules() -> RuleSet:
    """The klaxon's default rules (loaded once; they ship inside the package)."""
    return load_rules()


def account_key(ref: SubjectRef) -> str:
    """One text key per pseudonymised account, as the engine and the alert payload hold it."""
    return f"{ref.kind.value}:{ref.key_version}:{ref.pseudonym}"


def events_frame(events: Sequence[ContactEvent]) -> pl.DataFrame:
    """The events in the member layout the engine's ``prepare_events`` checks."""
    return pl.DataFrame(
        {
            "event_id": [e.event_id for e in events],
            "sender_account": [account_key(e.sender) for e in events],
            "recipient_account": [account_key(e.recipient) for e in events],
            "occurred_at": [e.occurred_at.astimezone(UTC) for e in events],
            "channel": [e.channel.value for e in events],
            "first_contact": [e.first_contact for e in events],
            "recipient_age_band": [_band(e.recipient_age_band) for e in events],
            "sender_age_band": [_band(e.sender_age_band) for e in events],
        },
        schema={
            "event_id": pl.Utf8,
            "sender_account": pl.Utf8,
            "recipient_account": pl.Utf8,
            "occurred_at": TIME,
            "channel": pl.Utf8,
            "first_contact": pl.Boolean,
            "recipient_age_band": pl.Utf8,
            "sender_age_band": pl.Utf8,
        },
    )


def _band(band: Any) -> str | None:
    return None if band is None else str(band.value)


def registry_flags(session: Session, member_id: str, events: Sequence[ContactEvent]) -> FlagSet:
    """Senders of ``events`` that match an active registry entry, shaped as a klaxon flag set."""
    senders = {e.sender for e in events}
    found = active_identifiers(session, {(s.key_version, s.pseudonym) for s in senders})
    flagged = sorted(
        account_key(s)
        for s in senders
        if s.kind.value in found.get((s.key_version, s.pseudonym), {})
    )
    return FlagSet(
        member_id=member_id,
        manifest={"source": "hub registry"},
        senders=pl.DataFrame(
            {
                "sender": flagged,
                "registry": [True] * len(flagged),
                "model_band": [None] * len(flagged),
                "model_score": [None] * len(flagged),
            },
            schema={
                "sender": pl.Utf8,
                "registry": pl.Boolean,
                "model_band": pl.Utf8,
                "model_score": pl.Float64,
            },
        ),
        recipients=pl.DataFrame(
            schema={"recipient": pl.Utf8, "marker_band": pl.Utf8, "vulnerable": pl.Boolean}
        ),
        child_accounts=pl.Series("recipient", [], dtype=pl.Utf8),
        conversation_risk=None,
    )


def screen_events(
    session: Session,
    member_id: str,
    events: Sequence[ContactEvent],
    *,
    now: datetime | None = None,
) -> list[NewAlert]:
    """The alerts the klaxon raises on ``events``; ``EventInputError`` (naming the row and
    the event) when an event cannot be screened, such as one far in the future."""
    clock = ClockLimits(now=now) if now is not None else ClockLimits.wall_clock()
    prepared = prepare_events(
        events_frame(events), source="the request's records", member_id=member_id, clock=clock
    )
    flags = registry_flags(session, member_id, events)
    found = screen(prepared, flags, hub_rules())
    return [
        NewAlert(
            alert_id=row["alert_id"],
            severity=int(row["severity"]),
            payload={
                "sender": row["sender"],
                "recipient": row["recipient"],
                "window_start": row["window_start"].isoformat(),
                "window_end": row["window_end"].isoformat(),
                "rules": list(row["rules"]),
                "reasons": list(row["reasons"]),
                "rule_severities": list(row["rule_severities"]),
                "first_event_id": row["first_event_id"],
                "first_event_at": row["first_event_at"].isoformat(),
                "last_event_at": row["last_event_at"].isoformat(),
                "events": int(row["events"]),
            },
        )
        for row in found.iter_rows(named=True)
    ]
