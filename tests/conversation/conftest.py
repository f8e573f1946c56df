"""A small model trained once per test session (seconds, not minutes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safehold.cli.conversation_data import synthetic_conversations
from safehold.conversation.model import RiskModel
from safehold.conversation.training import train
from safehold.conversation.types import ChatMessage, LabelledConversation


@pytest.fixture(scope="session")
def small_data() -> list[LabelledConversation]:
    return synthetic_conversations(240, seed=3)


@pytest.fixture(scope="session")
def small_model(small_data: list[LabelledConversation]) -> RiskModel:
    return train(small_data, seed=0)


T0 = datetime(2026, 2, 1, 20, 0, tzinfo=UTC)


def chat(
    texts: list[tuple[str, str | None]],
    conversation_id: str = "c1",
    minutes: float = 2.0,
) -> list[ChatMessage]:
    """Messages alternating between an adult ('a') and a child ('b'); each item is
    (text, band of its sender)."""
    out = []
    for i, (text, band) in enumerate(texts):
        out.append(
            ChatMessage(
                conversation_id=conversation_id,
                message_id=f"m{i}",
                sender_id="a" if i % 2 == 0 else "b",
                sent_at=T0 + timedelta(minutes=minutes * i),
                text=text,
                sender_age_band=band,
            )
        )
    return out


GROOMING_LIKE: list[tuple[str, str | None]] = [
    ("hi there, you are so mature for your age", "adult"),
    ("thanks", "13_15"),
    ("does your mum check your phone?", "adult"),
    ("not really", "13_15"),
    ("this is our secret, don't tell anyone", "adult"),
    ("ok", "13_15"),
    ("I'll buy you a gift card for your game", "adult"),
    ("really?", "13_15"),
    ("add me on QuietApp, it's more private", "adult"),
    ("maybe", "13_15"),
    ("we should meet up, I can pick you up after school", "adult"),
    ("idk", "13_15"),
]
