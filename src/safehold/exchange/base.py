"""Shared building blocks for every exchange record: strictness, versions, coarse dates."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

SCHEMA_VERSION = "1.0"
"""The exchange format version this code writes. Readers accept SUPPORTED_VERSIONS."""

SUPPORTED_VERSIONS: frozenset[str] = frozenset({"1.0"})


class StrictModel(BaseModel):
    """Base for exchange records: unknown fields are rejected, values are not coerced
    from the wrong type, and records are immutable once validated, so that what a member
    sent is exactly what the hub stores."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=False,
        str_strip_whitespace=False,
        validate_default=True,
        use_enum_values=False,
    )


YearMonth = Annotated[
    str,
    StringConstraints(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"),
]
"""A date coarsened to its month (``YYYY-MM``): exchange records never carry a day."""

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"),
]
"""An opaque record identifier chosen by the sender (no spaces, no personal data)."""


class AgeBand(StrEnum):
    """Coarse age bands: fine enough for child protection rules, coarse enough to share."""

    UNDER_13 = "under_13"
    AGE_13_15 = "13_15"
    AGE_16_17 = "16_17"
    AGE_18_24 = "18_24"
    AGE_25_34 = "25_34"
    AGE_35_44 = "35_44"
    AGE_45_54 = "45_54"
    AGE_55_64 = "55_64"
    AGE_65_PLUS = "65_plus"

    @property
    def is_minor(self) -> bool:
        return self in _MINOR_BANDS


_MINOR_BANDS = frozenset({AgeBand.UNDER_13, AgeBand.AGE_13_15, AgeBand.AGE_16_17})


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"
