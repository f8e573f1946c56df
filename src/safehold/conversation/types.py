"""The plain records the scorer reads and writes, shared by training, scoring, evaluation,
the klaxon and triage (so none of them depends on how the model works inside)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

STAGES: tuple[str, ...] = (
    "rapport",
    "risk_assessment",
    "exclusivity_secrecy",
    "gifts",
    "moving_platform",
    "meeting",
)
"""Grooming stages after the published stage models, in their usual order."""

SENDER_AGE_BANDS: tuple[str, ...] = ("adult", "under_13", "13_15", "16_17", "unknown")
"""What ``sender_age_band`` may say (None when not given)."""


@dataclass(frozen=True)
class ChatMessage:
    conversation_id: str
    message_id: str
    sender_id: str
    sent_at: datetime
    text: str
    sender_age_band: str | None = None


@dataclass(frozen=True)
class Evidence:
    """Why a warning was raised: ``text[start:end]`` of message ``message_id`` supports
    ``stage``."""

    message_id: str
    stage: str
    start: int
    end: int


@dataclass(frozen=True)
class MessageScore:
    message_id: str
    risk: float
    """The conversation's risk after this message, in [0, 1]."""
    stages: tuple[str, ...]
    """Stages seen so far, in STAGES order."""


@dataclass(frozen=True)
class ConversationResult:
    conversation_id: str
    risk: float
    label: Literal["risk", "no_risk"]
    messages_to_warning: int | None
    """Messages read (1-based count) when the first warning was raised; None if none."""
    first_warning_message_id: str | None
    evidence: tuple[Evidence, ...]
    stages_seen: tuple[str, ...]
    per_message: tuple[MessageScore, ...] = ()
    notes: tuple[str, ...] = ()
    """For example that a very long message was truncated before scoring."""


@dataclass(frozen=True)
class LabelledConversation:
    """A conversation with its ground truth, for training and evaluation."""

    conversation_id: str
    messages: tuple[ChatMessage, ...]
    grooming: bool
    kind: str
    """Generator kind: 'grooming', an ordinary kind, or a 'hard_negative_*' kind."""
    family: str
    """Phrasing family: evaluation holds whole families out."""
    message_stages: tuple[str, ...] = field(default=())
    """Per message, the true stage ('none' for none); may be empty when unknown."""
    first_grooming_message: int = -1
    """Index of the first message with a grooming stage; -1 if none."""
