"""The cases tier as people work it: each member sees only the cases it made or that are
addressed to it; support is appended to a referral's history and sets its status; a
resent referral is still a replay after support was recorded. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from safehold.exchange import Member, MemberKind, Referral
from safehold.store.casework import (
    DEVICE,
    ESCALATION,
    REFERRAL,
    SupportError,
    addressed_to,
    case_for,
    device_cases,
    record_support,
    referrals_sent,
    support_history,
)
from safehold.store.database import make_engine
from safehold.store.members import Actor, add_member
from safehold.store.migrate import upgrade
from safehold.store.models import CaseRow
from safehold.store.referrals import store_referral

SETUP = Actor("test-setup", "operator")
T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    upgrade(made)
    with Session(made) as session, session.begin():
        for member_id, kind in [
            ("police-1", MemberKind.POLICE),
            ("police-2", MemberKind.POLICE),
            ("la-1", MemberKind.LOCAL_AUTHORITY),
            ("la-2", MemberKind.LOCAL_AUTHORITY),
        ]:
            add_member(session, Member(member_id=member_id, name=member_id, kind=kind), SETUP)
        add_member(
            session,
            Member(member_id="plat-a", name="P", kind=MemberKind.PLATFORM, size_band="large"),
            SETUP,
        )
    try:
        yield made
    finally:
        made.dispose()


def referral(referral_id: str, to: str = "la-1") -> Referral:
    return Referral.model_validate(
        {
            "referral_id": referral_id,
            "case_reference": "case-17",
            "to_member": to,
            "child": {"case_ref": "child-1"},
            "child_age_band": "13_15",
            "reasons": ["conversation warned: secrecy, moving off-platform"],
            "evidence": [{"conversation_id": "c1", "message_refs": ["m1"], "stages": ["secrecy"]}],
            "made_at": "2026-12-02T05:00:00Z",
        }
    )


def device(case_id: str, member: str, score: float, at: datetime) -> CaseRow:
    summary: dict[str, Any] = {
        "device_id": case_id,
        "score": score,
        "reasons": ["known-image matches"],
        "counts": {"files": 10},
        "triaged_at": at.isoformat(),
    }
    return CaseRow(
        case_id=case_id,
        member_id=member,
        addressed_to=None,
        status="open",
        priority=score,
        created_at=at,
        payload={"kind": DEVICE, "summary": summary},
    )


def escalation(case_id: str, to: str) -> CaseRow:
    return CaseRow(
        case_id=case_id,
        member_id="plat-a",
        addressed_to=to,
        status="open",
        priority=60.0,
        created_at=T0,
        payload={"kind": ESCALATION, "alert_id": "a1", "rules": ["fan_out"], "reasons": ["r"]},
    )


def _load(engine: Engine) -> dict[str, str]:
    ids: dict[str, str] = {}
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                device("dev-low", "police-1", 0.2, T0),
                device("dev-high", "police-1", 0.9, T0 + timedelta(hours=1)),
                device("dev-other", "police-2", 0.99, T0),
                escalation("esc-1", "police-1"),
                escalation("esc-2", "police-2"),
            ]
        )
        ids["r1"] = store_referral(session, "police-1", referral("r1")).case_id
        ids["r2"] = store_referral(session, "police-2", referral("r2", "la-2")).case_id
    return ids


def test_each_member_sees_only_its_own_cases(engine: Engine) -> None:
    ids = _load(engine)
    with Session(engine) as session:
        assert [c.case_id for c in device_cases(session, "police-1")] == ["dev-high", "dev-low"]
        assert [c.case_id for c in referrals_sent(session, "police-1")] == [ids["r1"]]
        assert [c.case_id for c in addressed_to(session, "police-1", ESCALATION)] == ["esc-1"]
        assert [c.case_id for c in addressed_to(session, "la-1", REFERRAL)] == [ids["r1"]]
        assert addressed_to(session, "la-1", ESCALATION) == []
        assert [c.case_id for c in addressed_to(session, "la-2", REFERRAL)] == [ids["r2"]]
        # direct look-ups: made by, or addressed to, the member; nothing else
        assert case_for(session, "police-1", "dev-high") is not None
        assert case_for(session, "police-1", "dev-other") is None
        assert case_for(session, "police-1", "esc-2") is None
        assert case_for(session, "la-1", ids["r1"]) is not None
        assert case_for(session, "la-1", ids["r2"]) is None
        assert case_for(session, "la-2", "dev-high") is None


def test_support_is_appended_and_sets_the_status(engine: Engine) -> None:
    ids = _load(engine)
    with Session(engine) as session, session.begin():
        row = case_for(session, "la-1", ids["r1"])
        assert row is not None
        record_support(
            session,
            row,
            "la-1",
            by="user:7",
            status="acknowledged",
            support=[],
            note="",
            at=T0,
        )
        record_support(
            session,
            row,
            "la-1",
            by="user:8",
            status="support_given",
            support=["safety_plan", "school_liaison", "safety_plan"],
            note="Met the child and carer at school.",
            at=T0 + timedelta(days=2),
        )
    with Session(engine) as session:
        row = case_for(session, "la-1", ids["r1"])
        assert row is not None and row.status == "support_given"
        history = support_history(row)
        assert [h["status"] for h in history] == ["acknowledged", "support_given"]
        assert history[1]["support"] == ["safety_plan", "school_liaison"]
        assert history[1]["by"] == "user:8"
        assert row.payload["referral"]["referral_id"] == "r1"
    # The sender resends the same referral: still a replay, not a conflict.
    with Session(engine) as session, session.begin():
        assert store_referral(session, "police-1", referral("r1")).replayed


@pytest.mark.parametrize(
    ("member", "case", "status", "support", "note", "field"),
    [
        ("la-2", "r1", "acknowledged", [], "", "case"),  # not addressed to la-2
        ("la-1", "r1", "finished", [], "", "status"),
        ("la-1", "r1", "support_given", [], "", "support"),
        ("la-1", "r1", "in_progress", ["hugs"], "", "support"),
        ("la-1", "r1", "in_progress", ["other"], "", "note"),
        ("la-1", "r1", "in_progress", [], "x" * 2001, "note"),
    ],
)
def test_bad_support_is_refused_naming_the_field(
    engine: Engine, member: str, case: str, status: str, support: list[str], note: str, field: str
) -> None:
    ids = _load(engine)
    with Session(engine) as session, session.begin():
        row = session.get(CaseRow, ids[case])
        assert row is not None
        with pytest.raises(SupportError) as caught:
            record_support(session, row, member, by="u", status=status, support=support, note=note)
        assert caught.value.field == field
    with Session(engine) as session:
        row = session.get(CaseRow, ids[case])
        assert row is not None and row.status == "open" and support_history(row) == []


def test_support_is_only_for_referrals(engine: Engine) -> None:
    _load(engine)
    with Session(engine) as session, session.begin():
        row = session.get(CaseRow, "esc-1")
        assert row is not None
        with pytest.raises(SupportError, match="referral"):
            record_support(
                session, row, "police-1", by="u", status="acknowledged", support=[], note=""
            )
