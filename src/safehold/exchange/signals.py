"""Platform-to-platform signals: hashes, URLs and account pseudonyms of confirmed violations."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from safehold.exchange.base import Identifier, StrictModel


class SignalKind(StrEnum):
    MD5 = "md5"
    SHA1 = "sha1"
    PDQ = "pdq"
    URL = "url"
    ACCOUNT = "account"


class SignalCategory(StrEnum):
    """Industry categories; images are never exchanged, only their hashes."""

    CSEM_CATEGORY_A = "csem_category_a"
    CSEM_CATEGORY_B = "csem_category_b"
    CSEM_CATEGORY_C = "csem_category_c"
    GROOMING = "grooming"
    SEXTORTION = "sextortion"
    EXPLOITATION_OTHER = "exploitation_other"


_VALUE_PATTERNS: dict[SignalKind, re.Pattern[str]] = {
    SignalKind.MD5: re.compile(r"^[0-9a-f]{32}$"),
    SignalKind.SHA1: re.compile(r"^[0-9a-f]{40}$"),
    SignalKind.PDQ: re.compile(r"^[0-9a-f]{64}$"),
    SignalKind.URL: re.compile(r"^https?://[^\s/$.?#][^\s]{0,2040}$"),
    SignalKind.ACCOUNT: re.compile(r"^[0-9a-f]{64}$"),
}

_VALUE_HINTS: dict[SignalKind, str] = {
    SignalKind.MD5: "32 lowercase hex characters",
    SignalKind.SHA1: "40 lowercase hex characters",
    SignalKind.PDQ: "64 lowercase hex characters (256-bit PDQ hash)",
    SignalKind.URL: "an http(s) URL without spaces",
    SignalKind.ACCOUNT: "a keyed account pseudonym: 64 lowercase hex characters",
}


class Signal(StrictModel):
    record_type: Literal["signal"] = "signal"
    signal_id: Identifier
    kind: SignalKind
    value: str = Field(min_length=1, max_length=2048)
    key_version: int | None = Field(
        default=None, ge=1, description="Coalition key version; required for account signals."
    )
    category: SignalCategory
    confidence: float = Field(ge=0.0, le=1.0, description="The sender's confidence, 0 to 1.")
    pdq_quality: int | None = Field(default=None, ge=0, le=100, description="PDQ quality score.")
    observed_at: AwareDatetime

    @model_validator(mode="after")
    def _value_matches_kind(self) -> Signal:
        if not _VALUE_PATTERNS[self.kind].match(self.value):
            raise ValueError(
                f"value is not a valid {self.kind.value}: expected {_VALUE_HINTS[self.kind]}"
            )
        if self.kind is SignalKind.ACCOUNT and self.key_version is None:
            raise ValueError("key_version is required for account signals")
        if self.kind is not SignalKind.PDQ and self.pdq_quality is not None:
            raise ValueError("pdq_quality is only for pdq signals")
        return self
