"""The pre-registration: what the study will test and what counts as useful, fixed before any
data is seen. The study refuses to start without one, and records its SHA-256 in the report so
that nobody can move the goalposts afterwards."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from safehold.exchange import FEATURE_NAMES
from safehold.research.errors import StudyError


class Outcome(StrEnum):
    """Which cases the study compares with the general population."""

    CONVICTED_OFFENDER = "convicted_offender"
    VULNERABLE_CHILD = "vulnerable_child"


class FairnessMeasure(StrEnum):
    FALSE_POSITIVE_RATE = "false_positive_rate"
    FALSE_NEGATIVE_RATE = "false_negative_rate"
    SELECTION_RATE = "selection_rate"
    PPV = "ppv"


GROUP_COLUMNS: tuple[str, ...] = ("deprivation_quintile", "sex", "age_band", "size_band")


class PreRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=3)
    question: str = Field(min_length=3, description="The question in plain words.")
    outcome: Outcome
    features: list[str] = Field(min_length=1)
    primary_model: Literal["logistic", "lightgbm"] = "logistic"
    prevalence: float = Field(
        gt=0, lt=1, description="Share of real accounts that are cases, for PPV."
    )
    minimum_ppv: float = Field(
        gt=0, le=1, description="Least PPV at that prevalence for a flag to be useful."
    )
    operating_sensitivity: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Share of cases the flag must catch: fixes the threshold.",
    )
    fairness_priority: FairnessMeasure = FairnessMeasure.FALSE_POSITIVE_RATE
    fairness_minimum_ratio: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Least min/max ratio of the priority measure over groups.",
    )
    fairness_groups: list[str] = Field(default_factory=lambda: list(GROUP_COLUMNS), min_length=1)
    minimum_group_size: int = Field(default=30, ge=5)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    control_ratio: int = Field(default=4, ge=1, le=50)
    folds: int = Field(default=5, ge=2, le=20)
    permutations: int = Field(default=199, ge=19, le=10_000)
    bootstrap: int = Field(default=200, ge=50, le=10_000)
    seed: int = Field(default=0, ge=0)

    @field_validator("features")
    @classmethod
    def _in_dictionary(cls, features: list[str]) -> list[str]:
        unknown = [f for f in features if f not in FEATURE_NAMES]
        if unknown:
            raise ValueError(
                f"not in the data dictionary: {', '.join(unknown)}; use behaviour feature names "
                "from docs/data-dictionary.md"
            )
        if len(set(features)) != len(features):
            raise ValueError("a feature is listed twice")
        return features

    @field_validator("fairness_groups")
    @classmethod
    def _known_groups(cls, groups: list[str]) -> list[str]:
        unknown = [g for g in groups if g not in GROUP_COLUMNS]
        if unknown:
            raise ValueError(
                f"unknown group column(s) {', '.join(unknown)}; choose from {', '.join(GROUP_COLUMNS)}"
            )
        return groups


def load_prereg(path: Path) -> tuple[PreRegistration, str]:
    """The pre-registration and the SHA-256 of the file as written."""
    if not path.is_file():
        raise StudyError(
            f"pre-registration {path} not found: a study needs one before it starts; see "
            "examples/prereg-offender-study.yaml"
        )
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise StudyError(f"pre-registration {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise StudyError(f"pre-registration {path} must be a YAML mapping of fields")
    try:
        prereg = PreRegistration.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise StudyError(f"pre-registration {path}: {where}: {message}") from None
    return prereg, hashlib.sha256(raw).hexdigest()
