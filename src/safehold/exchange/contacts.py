"""Contact events: one account reaching out to another, as screened by the klaxon."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from safehold.exchange.base import AgeBand, Identifier, StrictModel
from safehold.exchange.subjects import SubjectRef


class Channel(StrEnum):
    DIRECT_MESSAGE = "direct_message"
    FRIEND_REQUEST = "friend_request"
    COMMENT = "comment"
    GROUP_INVITE = "group_invite"
    VOICE_CALL = "voice_call"
    VIDEO_CALL = "video_call"


class ContactEvent(StrictModel):
    record_type: Literal["contact_event"] = "contact_event"
    event_id: Identifier
    sender: SubjectRef = Field(description="Pseudonymised key of the account making contact.")
    recipient: SubjectRef = Field(description="Pseudonymised key of the account contacted.")
    occurred_at: AwareDatetime = Field(description="When the contact happened (timezone-aware).")
    channel: Channel
    first_contact: bool = Field(description="True when the sender had never contacted them before.")
    recipient_age_band: AgeBand | None = Field(
        default=None, description="When the platform knows it."
    )
    sender_age_band: AgeBand | None = Field(default=None, description="When the platform knows it.")

    @model_validator(mode="after")
    def _not_self(self) -> ContactEvent:
        if self.sender == self.recipient:
            raise ValueError("sender and recipient are the same account")
        return self
