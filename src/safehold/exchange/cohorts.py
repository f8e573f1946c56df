"""Cohort labels: which study group a pseudonymised subject belongs to, and who says so."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from safehold.exchange.base import Identifier, StrictModel, YearMonth
from safehold.exchange.registry import ClkBase64
from safehold.exchange.subjects import SubjectRef


class Cohort(StrEnum):
    CONVICTED_OFFENDER = "convicted_offender"
    REGISTERED = "registered"
    KNOWN_VICTIM = "known_victim"
    VULNERABLE_CHILD = "vulnerable_child"
    GENERAL_POPULATION = "general_population"


class SourceKind(StrEnum):
    """The kind of organisation that assigned the label (the organisation itself is blinded)."""

    POLICE = "police"
    PROBATION = "probation"
    COURT = "court"
    LOCAL_AUTHORITY = "local_authority"
    PLATFORM = "platform"


class CohortLabel(StrictModel):
    """A study label. A platform labels its own account (``subject``); a justice agency or a
    local authority labels a person it knows only by identifiers, so it sends their
    pseudonyms and CLK for the enclave's linkage step instead."""

    record_type: Literal["cohort_label"] = "cohort_label"
    label_id: Identifier = Field(description="The sender's own id for this label.")
    subject: SubjectRef | None = Field(default=None, description="The labelled account, if known.")
    identifiers: list[SubjectRef] = Field(
        default_factory=list, max_length=50, description="Pseudonyms of the person's identifiers."
    )
    clk: ClkBase64 | None = Field(default=None, description="CLK of name and date of birth.")
    cohort: Cohort
    source_kind: SourceKind
    labelled_month: YearMonth = Field(description="Month the label was assigned.")

    @model_validator(mode="after")
    def _linkable(self) -> CohortLabel:
        if self.subject is None and not self.identifiers and self.clk is None:
            raise ValueError("a label needs a subject, identifier pseudonyms or a clk")
        return self
