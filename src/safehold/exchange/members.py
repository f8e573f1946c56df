"""Coalition members: who contributes, and in what capacity."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from safehold.exchange.base import Identifier, StrictModel


class MemberKind(StrEnum):
    PLATFORM = "platform"
    POLICE = "police"
    PROBATION = "probation"
    COURT = "court"
    LOCAL_AUTHORITY = "local_authority"
    RESEARCH = "research"

    @property
    def is_justice(self) -> bool:
        return self in {MemberKind.POLICE, MemberKind.PROBATION, MemberKind.COURT}


class SizeBand(StrEnum):
    """Platform size by monthly active users; the source of pooled records is blinded to this band."""

    SMALL = "small"  # under 1 million monthly active users
    MEDIUM = "medium"  # 1 to 50 million
    LARGE = "large"  # over 50 million


class Member(StrictModel):
    record_type: Literal["member"] = "member"
    member_id: Identifier = Field(description="Coalition-wide member id (a slug).")
    name: str = Field(min_length=1, max_length=200, description="Display name of the organisation.")
    kind: MemberKind
    size_band: SizeBand | None = Field(
        default=None, description="Required for platforms; blinded in pooled research data."
    )

    @model_validator(mode="after")
    def _platforms_have_size(self) -> Member:
        if self.kind is MemberKind.PLATFORM and self.size_band is None:
            raise ValueError("size_band is required when kind is 'platform'")
        return self
