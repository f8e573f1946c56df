"""Safeguarding referrals: what a police member sends the local authority it names about a
child found in a risky conversation on a seized device.

A referral carries reasons and evidence pointers as text (conversation ids, message ids or
rows, stages), never images and never a raw phone number: the child is named by a keyed
pseudonym made on the police side, or by a reference that means something only inside the
case. Every text field is refused if it holds something shaped like a phone number."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from safehold.exchange.base import AgeBand, Identifier, StrictModel
from safehold.exchange.subjects import SubjectRef

MAX_REASONS = 50
MAX_POINTERS = 200

_PHONE_LIKE = re.compile(r"\+?\d(?:[\s().-]?\d){6,}")
"""Seven or more digits in a row (spaces, dots, dashes and brackets allowed between them)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Pointer = Annotated[str, StringConstraints(min_length=1, max_length=300)]


_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
"""ISO dates and times, which are digits but not numbers to withhold."""


def _outside_times(text: str, replace: str | None) -> tuple[bool, str]:
    found = False
    parts: list[str] = []
    last = 0
    for time in [*_ISO_TIME.finditer(text), None]:
        end = time.start() if time else len(text)
        piece = text[last:end]
        found = found or _PHONE_LIKE.search(piece) is not None
        parts.append(piece if replace is None else _PHONE_LIKE.sub(replace, piece))
        if time:
            parts.append(time.group())
            last = time.end()
    return found, "".join(parts)


def has_phone_number(text: str) -> bool:
    """Whether ``text`` holds something shaped like a phone number (ISO times aside)."""
    return _outside_times(text, None)[0]


def withhold_numbers(text: str) -> str:
    """``text`` with every phone-number-shaped run replaced by ``[number withheld]``."""
    return _outside_times(text, "[number withheld]")[1]


def _no_numbers(values: list[str]) -> list[str]:
    for value in values:
        if has_phone_number(value):
            raise ValueError(
                "holds a run of seven or more digits, which may be a phone number: refer to "
                "the child by pseudonym or case reference and leave numbers out"
            )
    return values


class ChildRef(StrictModel):
    """Who the referral is about: exactly one of a keyed pseudonym or a case-local reference."""

    pseudonym: SubjectRef | None = Field(
        default=None, description="Keyed pseudonym of the child's identifier (police side)."
    )
    case_ref: Identifier | None = Field(
        default=None, description="A reference meaningful only inside the case ('child-2')."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ChildRef:
        if (self.pseudonym is None) == (self.case_ref is None):
            raise ValueError("give exactly one of 'pseudonym' or 'case_ref' for the child")
        if self.case_ref is not None:
            _no_numbers([self.case_ref])
        return self


class EvidencePointer(StrictModel):
    """Where the evidence is on the device: pointers for the examiner, never the content."""

    conversation_id: Pointer
    message_refs: list[Pointer] = Field(default_factory=list, max_length=MAX_POINTERS)
    stages: list[Identifier] = Field(default_factory=list, max_length=20)

    @field_validator("conversation_id")
    @classmethod
    def _id_has_no_number(cls, value: str) -> str:
        return _no_numbers([value])[0]

    @field_validator("message_refs")
    @classmethod
    def _refs_have_no_number(cls, values: list[str]) -> list[str]:
        return _no_numbers(values)


class Referral(StrictModel):
    """One safeguarding referral. ``referral_id`` is the sender's own id: sending the same
    referral again changes nothing."""

    referral_id: Identifier
    case_reference: Identifier = Field(description="The case or device reference.")
    to_member: Identifier = Field(description="The local authority member it is addressed to.")
    child: ChildRef
    child_age_band: AgeBand = Field(description="The likely child's age band.")
    reasons: list[Text] = Field(min_length=1, max_length=MAX_REASONS)
    evidence: list[EvidencePointer] = Field(min_length=1, max_length=MAX_POINTERS)
    made_at: AwareDatetime

    @field_validator("reasons")
    @classmethod
    def _reasons_have_no_number(cls, values: list[str]) -> list[str]:
        return _no_numbers(values)

    @field_validator("case_reference")
    @classmethod
    def _case_has_no_number(cls, value: str) -> str:
        return _no_numbers([value])[0]

    @field_validator("child_age_band")
    @classmethod
    def _a_child(cls, value: AgeBand) -> AgeBand:
        if not value.is_minor:
            raise ValueError("a safeguarding referral is about a child: use a band under 18")
        return value


__all__ = ["ChildRef", "EvidencePointer", "Referral", "has_phone_number", "withhold_numbers"]
