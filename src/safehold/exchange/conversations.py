"""Conversations and messages as sent for risk scoring (klaxon) or read from a device (triage)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from safehold.exchange.base import AgeBand, Identifier, StrictModel
from safehold.exchange.subjects import SubjectRef

MessageText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class Participant(StrictModel):
    """One side of a conversation. The pseudonym is optional: a seized device may hold
    conversations with people nobody has identified yet."""

    participant_id: Identifier = Field(description="Local id, unique inside the conversation.")
    subject: SubjectRef | None = Field(default=None, description="Keyed pseudonym, when known.")
    age_band: AgeBand | None = Field(default=None, description="Known or declared age band.")


class Message(StrictModel):
    message_id: Identifier = Field(description="Unique inside the conversation.")
    sender_id: Identifier = Field(description="participant_id of the sender.")
    sent_at: AwareDatetime = Field(description="When the message was sent (timezone-aware).")
    text: MessageText = Field(
        description="The message text (evidence: shown blurred until revealed)."
    )


class Conversation(StrictModel):
    record_type: Literal["conversation"] = "conversation"
    conversation_id: Identifier
    channel: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        default="direct_message", description="Where the conversation happened."
    )
    participants: list[Participant] = Field(min_length=2, max_length=50)
    messages: list[Message] = Field(min_length=1, max_length=20_000)

    @model_validator(mode="after")
    def _consistent(self) -> Conversation:
        ids = [p.participant_id for p in self.participants]
        if len(set(ids)) != len(ids):
            raise ValueError("participant_id values must be unique")
        known = set(ids)
        seen: set[str] = set()
        previous: datetime | None = None
        for position, message in enumerate(self.messages):
            if message.sender_id not in known:
                raise ValueError(f"messages[{position}].sender_id is not one of the participants")
            if message.message_id in seen:
                raise ValueError(f"messages[{position}].message_id is repeated")
            seen.add(message.message_id)
            if previous is not None and message.sent_at < previous:
                raise ValueError(f"messages[{position}] is earlier than the message before it")
            previous = message.sent_at
        return self
