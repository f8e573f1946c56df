"""Behaviour records: one subject's standardised behaviour on one platform over one period.

The feature set is the coalition's data dictionary: every member measures the same things
in the same units, so that records from a platform of any size pool with the rest. A
feature a platform cannot measure is left empty (None), never guessed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from safehold.exchange.base import AgeBand, Sex, StrictModel, YearMonth
from safehold.exchange.subjects import SubjectRef


class FeatureGroup(StrEnum):
    ACCOUNT = "account"
    MESSAGING = "messaging"
    CONTACTS = "contacts"
    AUDIENCE_AGE = "audience_age"
    POSTING = "posting"
    PURCHASES = "purchases"
    TIME_OF_DAY = "time_of_day"
    OFF_PLATFORM = "off_platform"
    REPORTS = "reports"


class Unit(StrEnum):
    COUNT = "count"
    FRACTION = "fraction"
    DAYS = "days"
    SECONDS = "seconds"
    YEARS = "years"
    PER_DAY = "per_day"
    FLAG = "flag"


_INTEGER_UNITS = frozenset({Unit.COUNT, Unit.DAYS, Unit.SECONDS, Unit.FLAG})


def _feature(group: FeatureGroup, unit: Unit, maximum: float, meaning: str) -> Any:
    """A behaviour feature field: optional, range-checked, carrying its group and unit."""
    return Field(
        default=None,
        ge=0,
        le=maximum,
        description=meaning,
        json_schema_extra={"x-group": group.value, "x-unit": unit.value},
    )


G, U = FeatureGroup, Unit
_PERIOD_COUNT = 1_000_000  # generous per-period ceiling for counts


class BehaviourRecord(StrictModel):
    record_type: Literal["behaviour"] = "behaviour"
    subject: SubjectRef = Field(description="Keyed pseudonym of the account.")
    period_start: YearMonth = Field(description="First month of the observation period.")
    period_days: int = Field(ge=1, le=366, description="Length of the observation period in days.")
    age_band: AgeBand = Field(description="Age band of the account holder (declared or estimated).")
    sex: Sex = Field(description="Sex of the account holder, when known.")
    deprivation_quintile: int | None = Field(
        default=None,
        ge=1,
        le=5,
        description="Area deprivation quintile (1 most deprived), when known.",
    )

    # account
    account_age_days: int | None = _feature(
        G.ACCOUNT, U.DAYS, 36_500, "Days from account creation to the end of the period."
    )
    profile_completeness: float | None = _feature(
        G.ACCOUNT, U.FRACTION, 1, "Share of optional profile fields filled in."
    )
    age_declaration_changes: int | None = _feature(
        G.ACCOUNT, U.COUNT, 1_000, "Times the declared date of birth was changed."
    )
    linked_accounts: int | None = _feature(
        G.ACCOUNT, U.COUNT, 1_000, "Other accounts on the platform sharing a device or login."
    )
    # messaging
    messages_sent: int | None = _feature(
        G.MESSAGING, U.COUNT, _PERIOD_COUNT, "Private messages sent in the period."
    )
    messages_received: int | None = _feature(
        G.MESSAGING, U.COUNT, _PERIOD_COUNT, "Private messages received in the period."
    )
    conversations_started: int | None = _feature(
        G.MESSAGING,
        U.COUNT,
        _PERIOD_COUNT,
        "Conversations in which the account sent the first message.",
    )
    median_reply_seconds: int | None = _feature(
        G.MESSAGING, U.SECONDS, 2_592_000, "Median time to reply to a received message."
    )
    deleted_message_share: float | None = _feature(
        G.MESSAGING, U.FRACTION, 1, "Share of sent messages later deleted by the sender."
    )
    disappearing_message_share: float | None = _feature(
        G.MESSAGING, U.FRACTION, 1, "Share of sent messages set to disappear."
    )
    # contacts
    contacts_total: int | None = _feature(
        G.CONTACTS,
        U.COUNT,
        _PERIOD_COUNT,
        "Distinct accounts messaged or befriended at the end of the period.",
    )
    new_contacts: int | None = _feature(
        G.CONTACTS,
        U.COUNT,
        _PERIOD_COUNT,
        "Distinct accounts contacted for the first time in the period.",
    )
    friend_requests_sent: int | None = _feature(
        G.CONTACTS, U.COUNT, _PERIOD_COUNT, "Friend or follow requests sent."
    )
    friend_request_acceptance: float | None = _feature(
        G.CONTACTS, U.FRACTION, 1, "Share of sent friend requests that were accepted."
    )
    contacts_initiated_share: float | None = _feature(
        G.CONTACTS, U.FRACTION, 1, "Share of contacts in which this account made the first move."
    )
    mutual_contacts_median: int | None = _feature(
        G.CONTACTS, U.COUNT, 100_000, "Median number of mutual contacts with new contacts."
    )
    # audience age
    minor_contacts_share: float | None = _feature(
        G.AUDIENCE_AGE, U.FRACTION, 1, "Share of contacts whose age band is under 18."
    )
    minor_new_contacts_share: float | None = _feature(
        G.AUDIENCE_AGE, U.FRACTION, 1, "Share of new contacts whose age band is under 18."
    )
    messages_to_minors_share: float | None = _feature(
        G.AUDIENCE_AGE, U.FRACTION, 1, "Share of sent messages addressed to under-18s."
    )
    contact_age_gap_years: float | None = _feature(
        G.AUDIENCE_AGE, U.YEARS, 100, "Median absolute age gap to contacts, in years."
    )
    youth_content_follow_share: float | None = _feature(
        G.AUDIENCE_AGE, U.FRACTION, 1, "Share of followed accounts or channels aimed at under-18s."
    )
    # posting
    posts: int | None = _feature(G.POSTING, U.COUNT, _PERIOD_COUNT, "Public posts made.")
    comments_on_minor_posts: int | None = _feature(
        G.POSTING, U.COUNT, _PERIOD_COUNT, "Comments on posts by under-18 accounts."
    )
    media_shared: int | None = _feature(
        G.POSTING, U.COUNT, _PERIOD_COUNT, "Images or videos shared, publicly or privately."
    )
    live_streams_watched: int | None = _feature(
        G.POSTING, U.COUNT, _PERIOD_COUNT, "Live streams watched."
    )
    # purchases
    purchases_game_credit: int | None = _feature(
        G.PURCHASES, U.COUNT, 100_000, "Purchases of in-game currency or credit."
    )
    purchases_gift_card: int | None = _feature(
        G.PURCHASES, U.COUNT, 100_000, "Purchases of gift cards or vouchers."
    )
    purchases_other: int | None = _feature(
        G.PURCHASES, U.COUNT, 100_000, "Other purchases on the platform."
    )
    gifts_sent: int | None = _feature(
        G.PURCHASES, U.COUNT, 100_000, "Paid gifts, credit or items sent to other accounts."
    )
    # time of day
    night_activity_share: float | None = _feature(
        G.TIME_OF_DAY, U.FRACTION, 1, "Share of activity between 00:00 and 05:00 local time."
    )
    weekend_activity_share: float | None = _feature(
        G.TIME_OF_DAY, U.FRACTION, 1, "Share of activity on Saturdays and Sundays."
    )
    active_days: int | None = _feature(
        G.TIME_OF_DAY, U.DAYS, 366, "Days in the period with any activity."
    )
    sessions_per_day: float | None = _feature(
        G.TIME_OF_DAY, U.PER_DAY, 1_000, "Mean sessions per active day."
    )
    # off-platform
    off_platform_links_sent: int | None = _feature(
        G.OFF_PLATFORM,
        U.COUNT,
        _PERIOD_COUNT,
        "Messages containing links or handles for other apps or sites.",
    )
    external_app_mentions: int | None = _feature(
        G.OFF_PLATFORM, U.COUNT, _PERIOD_COUNT, "Messages naming another messaging app."
    )
    off_platform_to_minors_share: float | None = _feature(
        G.OFF_PLATFORM, U.FRACTION, 1, "Share of off-platform links sent to under-18s."
    )
    # reports received
    reports_received: int | None = _feature(
        G.REPORTS, U.COUNT, 100_000, "User reports received about this account."
    )
    blocks_received: int | None = _feature(
        G.REPORTS, U.COUNT, 100_000, "Times other accounts blocked this one."
    )
    reports_upheld: int | None = _feature(
        G.REPORTS, U.COUNT, 100_000, "Reports that moderators upheld."
    )


@dataclass(frozen=True)
class FeatureInfo:
    """One line of the data dictionary, read from the model so the two cannot drift apart."""

    name: str
    group: FeatureGroup
    unit: Unit
    minimum: float
    maximum: float
    meaning: str

    @property
    def is_integer(self) -> bool:
        return self.unit in _INTEGER_UNITS


def behaviour_features() -> tuple[FeatureInfo, ...]:
    """The behaviour features in dictionary order."""
    infos: list[FeatureInfo] = []
    for name, field in BehaviourRecord.model_fields.items():
        extra = field.json_schema_extra
        if not isinstance(extra, dict) or "x-group" not in extra:
            continue
        bounds = {type(m).__name__: m for m in field.metadata}
        infos.append(
            FeatureInfo(
                name=name,
                group=FeatureGroup(str(extra["x-group"])),
                unit=Unit(str(extra["x-unit"])),
                minimum=float(getattr(bounds["Ge"], "ge")),  # noqa: B009
                maximum=float(getattr(bounds["Le"], "le")),  # noqa: B009
                meaning=field.description or "",
            )
        )
    return tuple(infos)


FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in behaviour_features())
