"""Device cases: what a police member sends the hub's cases tier about one triaged device.

A device case is a summary that ranks work (score, the reasons that make it up, counts and
when it was triaged) and nothing of the evidence: no messages, no contact details, no paths
to images, no hashes. The hub stores it as the CaseRow payload
``{"kind": "device", "summary": {...}}`` with the score as the case's priority; the web UI
renders that payload, so its shape is a contract: change it only with a new version."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from safehold.exchange.base import Identifier, StrictModel
from safehold.exchange.referrals import has_phone_number

DEVICE_CASE_KIND = "device"
MAX_CASE_REASONS = 50
MAX_CASE_COUNTS = 40
MAX_SCORE = 1000.0

CountName = Annotated[
    str, StringConstraints(min_length=1, max_length=48, pattern=r"^[a-z][a-z0-9_]*$")
]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]

_PATH_LIKE = re.compile(r"[\\/]|\.(?:jpe?g|png|gif|heic|webp|bmp|mp4|mov|db|sqlite)\b", re.I)
"""A slash or an image, video or database file name: evidence locations stay on the device."""


class DeviceCaseSummary(StrictModel):
    """One device's triage result as the cases tier holds it. ``triaged_at`` is sent as an
    ISO time with a zone; the stored payload keeps the ISO text."""

    device_id: Identifier = Field(description="The device's case reference (no spaces).")
    score: float = Field(ge=0.0, le=MAX_SCORE, description="The device score; ranks work.")
    reasons: list[Reason] = Field(
        min_length=1, max_length=MAX_CASE_REASONS, description="Why the score is what it is."
    )
    counts: dict[CountName, Annotated[int, Field(ge=0)]] = Field(
        max_length=MAX_CASE_COUNTS, description="Counts only: files, messages, matches..."
    )
    triaged_at: AwareDatetime

    @field_validator("device_id")
    @classmethod
    def _device_has_no_number(cls, value: str) -> str:
        if has_phone_number(value):
            raise ValueError("holds a run of seven or more digits: use a case reference")
        return value

    @field_validator("reasons")
    @classmethod
    def _reasons_hold_no_evidence(cls, values: list[str]) -> list[str]:
        for value in values:
            if has_phone_number(value):
                raise ValueError(
                    "a reason holds a run of seven or more digits, which may be a phone "
                    "number: reasons give counts and categories, never identifiers"
                )
            if _PATH_LIKE.search(value):
                raise ValueError(
                    "a reason holds a path or file name: evidence locations stay in the "
                    "report on the police side; reasons give counts and categories only"
                )
        return values

    def payload(self) -> dict[str, object]:
        """The CaseRow payload, exactly as the cases tier stores it."""
        return {
            "kind": DEVICE_CASE_KIND,
            "summary": {
                "device_id": self.device_id,
                "score": self.score,
                "reasons": list(self.reasons),
                "counts": dict(self.counts),
                "triaged_at": self.triaged_at.isoformat(),
            },
        }


__all__ = ["DEVICE_CASE_KIND", "DeviceCaseSummary"]
