"""World parameters, checked up front so that an impossible world fails in one clear line."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(ValueError):
    """An impossible world: the message is one line naming the parameter and the fix."""


class WorldConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    people: int = Field(
        default=20_000, ge=200, le=50_000_000, description="People in the population."
    )
    seed: int = Field(default=7, ge=0, le=2**63 - 1)
    effect: float = Field(
        default=0.3,
        ge=0.0,
        le=2.0,
        description="Standardised effect size (Cohen's d) of offending on each signal-bearing "
        "feature group; 0 gives the 'too diffuse' world.",
    )
    selection_bias: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="How much more likely offenders from deprived areas are to be known to justice "
        "agencies than others with the same behaviour (0: not at all, 1: strongly).",
    )
    vulnerable_effect: float = Field(
        default=0.6, ge=0.0, le=2.0, description="Standardised effect size of the mirror study."
    )
    child_share: float = Field(default=0.2, gt=0.0, lt=0.9, description="Share of people under 18.")
    offender_rate: float = Field(
        default=0.01, gt=0.0, le=0.2, description="Share of adults who offend against children."
    )
    known_share: float = Field(
        default=0.5, gt=0.0, le=1.0, description="Average share of offenders known to justice."
    )
    vulnerable_rate: float = Field(
        default=0.06, gt=0.0, le=0.5, description="Share of children in the vulnerable group."
    )
    period_start: date = Field(default=date(2026, 1, 1), description="First day of the period.")
    period_days: int = Field(default=90, ge=7, le=366)
    contacts_per_account: float = Field(default=2.0, ge=0.0, le=50.0)
    conversations: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Conversations; default people/20, at most 5000.",
    )

    @model_validator(mode="after")
    def _enough_people(self) -> WorldConfig:
        adults = self.people * (1 - self.child_share)
        if adults * self.offender_rate < 5:
            raise ValueError(
                "people: too few people for any offenders at this offender_rate; use more people"
            )
        return self

    @property
    def start_datetime(self) -> datetime:
        return datetime(
            self.period_start.year, self.period_start.month, self.period_start.day, tzinfo=UTC
        )

    @property
    def period_month(self) -> str:
        return f"{self.period_start.year:04d}-{self.period_start.month:02d}"

    @property
    def n_conversations(self) -> int:
        return (
            self.conversations if self.conversations is not None else min(5_000, self.people // 20)
        )


def make_config(**values: object) -> WorldConfig:
    """Build a WorldConfig, turning pydantic's report into one line per the CLI contract."""
    try:
        return WorldConfig.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule across parameters names them in its message
            raise ConfigError(message) from None
        name = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{name}: {message} (got {first.get('input')!r})") from None
