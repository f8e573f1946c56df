"""The coalition's members in a synthetic world: platforms of several sizes and the agencies."""

from __future__ import annotations

from safehold.exchange import Member, MemberKind, SizeBand

DEFAULT_MEMBERS: tuple[Member, ...] = (
    Member(
        member_id="plat-large-1",
        name="Large platform (synthetic)",
        kind=MemberKind.PLATFORM,
        size_band=SizeBand.LARGE,
    ),
    Member(
        member_id="plat-medium-1",
        name="Medium platform one (synthetic)",
        kind=MemberKind.PLATFORM,
        size_band=SizeBand.MEDIUM,
    ),
    Member(
        member_id="plat-medium-2",
        name="Medium platform two (synthetic)",
        kind=MemberKind.PLATFORM,
        size_band=SizeBand.MEDIUM,
    ),
    Member(
        member_id="plat-small-1",
        name="Small platform one (synthetic)",
        kind=MemberKind.PLATFORM,
        size_band=SizeBand.SMALL,
    ),
    Member(
        member_id="plat-small-2",
        name="Small platform two (synthetic)",
        kind=MemberKind.PLATFORM,
        size_band=SizeBand.SMALL,
    ),
    Member(
        member_id="plat-small-3",
        name="Small platform three (synthetic)",
        kind=MemberKind.PLATFORM,
        size_band=SizeBand.SMALL,
    ),
    Member(member_id="police-1", name="Police force (synthetic)", kind=MemberKind.POLICE),
    Member(
        member_id="probation-1", name="Probation service (synthetic)", kind=MemberKind.PROBATION
    ),
    Member(member_id="court-1", name="Court service (synthetic)", kind=MemberKind.COURT),
    Member(
        member_id="la-1",
        name="Local authority children's services (synthetic)",
        kind=MemberKind.LOCAL_AUTHORITY,
    ),
)

# Share of a person's account choices that land on each platform (by size).
PLATFORM_WEIGHTS: dict[SizeBand, float] = {
    SizeBand.LARGE: 10.0,
    SizeBand.MEDIUM: 3.0,
    SizeBand.SMALL: 1.0,
}


def platforms(members: tuple[Member, ...] = DEFAULT_MEMBERS) -> tuple[Member, ...]:
    return tuple(m for m in members if m.kind is MemberKind.PLATFORM)


def justice_members(members: tuple[Member, ...] = DEFAULT_MEMBERS) -> dict[str, str]:
    return {m.member_id: m.kind.value for m in members if m.kind.is_justice}
