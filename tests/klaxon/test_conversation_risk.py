"""The conversation rule end to end: scored by safehold.conversation, joined by the engine."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from safehold.cli.conversation_data import synthetic_conversations
from safehold.klaxon.conversation_risk import conversation_risk
from safehold.klaxon.engine import screen
from safehold.klaxon.flags import (
    RECIPIENT_MARKER_SCHEMA,
    SENDER_FLAG_SCHEMA,
    load_flags,
    write_flags,
)
from safehold.klaxon.rules import parse_rules
from tests.klaxon.builders import MEMBER, T0, event, prepared


def test_grooming_pattern_conversations_score_high_and_raise_the_rule(tmp_path: Path) -> None:
    data = synthetic_conversations(40, seed=3)
    rows = [
        {
            "conversation_id": m.conversation_id,
            "message_id": m.message_id,
            "sender_id": m.sender_id,
            "sent_at": m.sent_at,
            "text": m.text,
            "sender_age_band": m.sender_age_band,
        }
        for c in data
        for m in c.messages
    ]
    scored = conversation_risk(pl.DataFrame(rows))
    truth = {c.conversation_id: c.grooming for c in data}
    risky = scored.filter(pl.col("risk") >= 0.5)["conversation_id"].to_list()
    assert risky and all(truth[c] for c in risky)  # the packaged model, synthetic data
    grooming = next(c for c in risky)
    ordinary = next(c for c in truth if not truth[c])
    write_flags(
        tmp_path,
        member_id=MEMBER,
        senders=pl.DataFrame(schema=SENDER_FLAG_SCHEMA),
        markers=pl.DataFrame(schema=RECIPIENT_MARKER_SCHEMA),
        conversation_risk=scored,
    )
    rules = parse_rules(
        "version: 1\nwindow: 7d\nalert_at: 50\nrules:\n  - id: conv\n    kind: conversation_risk\n"
        "    severity: 50\n    threshold: 0.5\n",
        source="test",
    )
    events = prepared(
        [
            event("a", "kid", T0, conversation_id=grooming),
            event("b", "kid", T0, conversation_id=ordinary),
        ]
    )
    alerts = screen(events, load_flags(tmp_path), rules)
    assert alerts["sender"].to_list() == ["a"]
    assert "grooming-pattern risk" in alerts["reasons"][0][0]
