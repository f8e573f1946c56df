"""Linkage keys for a platform account: what the enclave needs to link it to justice records
without ever seeing an identifier: pseudonyms of its email, phone and username, and a CLK."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from safehold.exchange.base import StrictModel
from safehold.exchange.registry import ClkBase64
from safehold.exchange.subjects import IdentifierKind, SubjectRef


class AccountKeys(StrictModel):
    record_type: Literal["account_keys"] = "account_keys"
    subject: SubjectRef = Field(description="Keyed pseudonym of the account itself.")
    identifiers: list[SubjectRef] = Field(
        default_factory=list,
        max_length=50,
        description="Keyed pseudonyms of the identifiers the account was registered with.",
    )
    clk: ClkBase64 | None = Field(
        default=None, description="CLK of the name and date of birth given at sign-up, if any."
    )

    @model_validator(mode="after")
    def _account_subject(self) -> AccountKeys:
        if self.subject.kind is not IdentifierKind.ACCOUNT:
            raise ValueError("subject.kind must be 'account'")
        versions = {ref.key_version for ref in self.identifiers} | {self.subject.key_version}
        if len(versions) > 1:
            raise ValueError("all pseudonyms of one record must use the same key_version")
        return self
