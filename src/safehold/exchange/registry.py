"""Registry entries: people convicted of, or registered for, child sexual offences.

Written only by justice members (police, probation, courts). Platforms learn match or no
match for the pseudonyms they ask about, never the list itself."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from safehold.exchange.base import Identifier, StrictModel, YearMonth
from safehold.exchange.subjects import SubjectRef

ClkBase64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{170}[A-Za-z0-9+/=]{2}$")]
"""A 1024-bit CLK Bloom filter (name plus date of birth), base64 of 128 bytes."""


class OffenceTypology(StrEnum):
    CONTACT = "contact"
    CSEM_ONLY = "csem_only"
    GROOMING = "grooming"
    OTHER = "other"


class RegistryStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class RegistryEntry(StrictModel):
    record_type: Literal["registry_entry"] = "registry_entry"
    entry_id: Identifier = Field(description="The justice member's own id for this entry.")
    subjects: list[SubjectRef] = Field(
        default_factory=list,
        max_length=50,
        description="Keyed pseudonyms of the person's known identifiers (emails, phones, usernames).",
    )
    clk: ClkBase64 | None = Field(
        default=None, description="CLK encoding of name and date of birth, for fuzzy linkage."
    )
    typology: OffenceTypology
    convicted_month: YearMonth = Field(description="Month of conviction or caution.")
    registered_from: YearMonth
    registered_until: YearMonth | None = Field(
        default=None, description="End of the registration period; empty for indefinite."
    )
    status: RegistryStatus

    @model_validator(mode="after")
    def _dates_in_order(self) -> RegistryEntry:
        if not self.subjects and self.clk is None:
            raise ValueError("an entry needs at least one subject pseudonym or a clk")
        if self.registered_from < self.convicted_month:
            raise ValueError("registered_from is before convicted_month")
        if self.registered_until is not None and self.registered_until < self.registered_from:
            raise ValueError("registered_until is before registered_from")
        return self
