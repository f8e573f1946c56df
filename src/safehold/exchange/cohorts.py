"""Cohort labels: which study group a pseudonymised subject belongs to, and who says so."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from safehold.exchange.base import StrictModel, YearMonth
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
    record_type: Literal["cohort_label"] = "cohort_label"
    subject: SubjectRef
    cohort: Cohort
    source_kind: SourceKind
    labelled_month: YearMonth = Field(description="Month the label was assigned.")
