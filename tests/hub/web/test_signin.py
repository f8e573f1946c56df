"""Sign-in: Argon2 passwords, server-side sessions, secure cookies, CSRF, lock-out."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safehold.store.models import AuditEventRow, UserRow, WebSessionRow
from safehold.store.users import MAX_FAILURES, set_disabled
from tests.hub.conftest import Hub
from tests.hub.web.conftest import PASSWORD, add_web_user, csrf_of, sign_in


def _try(client: TestClient, username: str, password: str) -> int:
    page = client.get("/signin")
    return client.post(
        "/signin",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    ).status_code


def test_a_page_without_a_session_redirects_to_sign_in(web_hub: Hub) -> None:
    answer = web_hub.client.get("/alerts", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=%2Falerts")
    htmx = web_hub.client.post("/alerts/x/claim", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/signin")


def test_sign_in_sets_a_strict_httponly_session_cookie_and_stores_only_its_hash(
    web_hub: Hub,
) -> None:
    add_web_user(web_hub, "rita", "platform")
    client = TestClient(web_hub.client.app)
    page = client.get("/signin")
    answer = client.post(
        "/signin",
        data={"username": "rita", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "safehold_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http in tests; https requests get Secure
    token = client.cookies.get("safehold_session")
    assert token
    with Session(web_hub.engine) as session:
        stored = session.scalars(select(WebSessionRow.token_hash)).all()
        user = session.scalar(select(UserRow).where(UserRow.username == "rita"))
    assert token not in stored and len(stored) == 1
    assert user is not None and user.password_hash.startswith("$argon2")
    assert client.get("/alerts").status_code == 200


def test_https_requests_get_secure_cookies(web_hub: Hub) -> None:
    client = TestClient(web_hub.client.app, base_url="https://hub.example")
    page = client.get("/signin")
    cookie = page.headers["set-cookie"]
    assert "Secure" in cookie


def test_sign_in_form_without_its_csrf_token_is_refused(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    client = TestClient(web_hub.client.app)
    client.get("/signin")
    answer = client.post(
        "/signin", data={"username": "rita", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert client.cookies.get("safehold_session") is None


def test_post_without_csrf_token_is_refused_and_audited(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    user = sign_in(web_hub, "rita")
    bare = user.client.post("/signout", data={}, follow_redirects=False)
    assert bare.status_code == 403
    wrong = user.client.post("/signout", data={"csrf_token": "nope"}, follow_redirects=False)
    assert wrong.status_code == 403
    header = user.client.post(
        "/signout", headers={"X-CSRF-Token": user.csrf}, follow_redirects=False
    )
    assert header.status_code == 303
    with Session(web_hub.engine) as session:
        denied = session.scalars(
            select(AuditEventRow).where(AuditEventRow.outcome == "denied")
        ).all()
    assert sum(1 for e in denied if e.detail.get("why") == "csrf") == 2


def test_sign_out_ends_the_session_at_once(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    user = sign_in(web_hub, "rita")
    token = user.client.cookies.get("safehold_session")
    assert user.post("/signout").status_code == 303
    again = TestClient(web_hub.client.app, cookies={"safehold_session": str(token)})
    assert again.get("/alerts", follow_redirects=False).status_code == 303


def test_disabling_a_user_signs_them_out(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    user = sign_in(web_hub, "rita")
    with Session(web_hub.engine) as session, session.begin():
        set_disabled(session, "rita", True)
    assert user.client.get("/alerts", follow_redirects=False).status_code == 303
    assert _try(TestClient(web_hub.client.app), "rita", PASSWORD) == 401


def test_lock_out_after_repeated_failures_even_with_the_right_password(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    client = TestClient(web_hub.client.app)
    for _ in range(MAX_FAILURES):
        assert _try(client, "rita", "wrong password!!") == 401
    assert _try(client, "rita", PASSWORD) == 401, "locked: the right password must not work"
    with Session(web_hub.engine) as session:
        user = session.scalar(select(UserRow).where(UserRow.username == "rita"))
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "web.signin")
        ).all()
    assert user is not None and user.locked_until is not None
    assert [e.detail["why"] for e in events][-1] == "account locked"
    assert all("wrong password!!" not in str(e.detail) for e in events)


def test_a_right_password_resets_the_failure_count(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    client = TestClient(web_hub.client.app)
    for _ in range(MAX_FAILURES - 1):
        _try(client, "rita", "wrong password!!")
    assert _try(client, "rita", PASSWORD) == 303
    with Session(web_hub.engine) as session:
        user = session.scalar(select(UserRow).where(UserRow.username == "rita"))
    assert user is not None and user.failed_sign_ins == 0 and user.locked_until is None


def test_next_never_leaves_the_hub(web_hub: Hub) -> None:
    add_web_user(web_hub, "rita", "platform")
    client = TestClient(web_hub.client.app)
    page = client.get("/signin")
    answer = client.post(
        "/signin",
        data={
            "username": "rita",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_sessions_end_when_idle_too_long_or_too_old(web_hub: Hub) -> None:
    from datetime import timedelta

    from safehold.store.types import utcnow
    from safehold.store.users import SESSION_IDLE, SESSION_MAX, find_session, open_session

    user_id = add_web_user(web_hub, "rita", "platform")
    start = utcnow()
    with Session(web_hub.engine) as session, session.begin():
        opened = open_session(session, user_id, now=start)
        assert find_session(session, opened.token, now=start + timedelta(minutes=1))
        assert find_session(session, "not-a-token", now=start) is None
        idle = start + timedelta(minutes=1) + SESSION_IDLE + timedelta(seconds=1)
        assert find_session(session, opened.token, now=idle) is None
        # kept alive by use, it still ends at its maximum age
        moment = start
        while moment < start + SESSION_MAX - SESSION_IDLE:
            moment += SESSION_IDLE / 2
            assert find_session(session, opened.token, now=moment) is not None
        assert find_session(session, opened.token, now=start + SESSION_MAX) is None
