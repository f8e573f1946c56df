"""People who sign in to the web UI: accounts, Argon2 passwords, lock-out, sessions.

A user belongs to a member (or, for the coalition's operator and auditor, to none) and
carries that member's role. Passwords are kept only as Argon2 hashes. After
``MAX_FAILURES`` wrong passwords in a row the account is locked for ``LOCK_FOR``, whatever
is typed; a right password resets the count. A session is a row (the cookie holds a random
token, the row its SHA-256), so signing out, disabling a user or deactivating a member
takes effect on the very next request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safehold.exchange import MemberKind
from safehold.store.credentials import hash_password, verify_secret
from safehold.store.members import COALITION_ROLES, ROLE_OF_KIND
from safehold.store.models import MemberRow, UserRow, WebSessionRow
from safehold.store.types import utcnow

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
MIN_PASSWORD = 12


class UserError(ValueError):
    """A user that cannot be added; says why and what to do."""


@dataclass(frozen=True)
class SignedInUser:
    """Who a session belongs to, as routes and templates see them."""

    user_id: int
    username: str
    member_id: str | None
    role: str
    member_name: str | None = None

    @property
    def actor(self) -> str:
        return f"user:{self.username}"


def add_user(
    session: Session, username: str, password: str, member_id: str | None, role: str | None
) -> UserRow:
    """A new user; the role follows the member's kind (or must be operator or auditor when
    there is no member)."""
    name = username.strip()
    if not name or len(name) > 128 or any(c.isspace() for c in name):
        raise UserError("a username is 1 to 128 characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    if session.scalar(select(UserRow.user_id).where(UserRow.username == name)) is not None:
        raise UserError(f"user '{name}' already exists; choose another username")
    if member_id is not None:
        member = session.get(MemberRow, member_id)
        if member is None:
            raise UserError(f"no member '{member_id}'; add it first with `safehold hub member add`")
        member_role = ROLE_OF_KIND[MemberKind(member.kind)]
        if role is not None and role != member_role:
            raise UserError(f"a {member.kind} member's users have the role '{member_role}'")
        role = member_role
    elif role not in COALITION_ROLES:
        raise UserError("a user without a member must have the role 'operator' or 'auditor'")
    assert role is not None
    row = UserRow(
        username=name,
        member_id=member_id,
        role=role,
        password_hash=hash_password(password),
        failed_sign_ins=0,
        disabled=False,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class SignInResult:
    user: UserRow | None
    problem: str | None  # for the audit trail; the page says only "not signed in"
    locked: bool = False


def check_password(
    session: Session, username: str, password: str, now: datetime | None = None
) -> SignInResult:
    """Check a sign-in inside the caller's transaction, counting failures and locking."""
    moment = now or utcnow()
    user = session.scalar(select(UserRow).where(UserRow.username == username.strip()))
    if user is None:
        verify_secret(_dummy_hash(), password)  # same work as a real check: no user probing
        return SignInResult(None, "unknown username")
    if user.locked_until is not None and user.locked_until > moment:
        verify_secret(_dummy_hash(), password)  # no timing difference for a locked account
        return SignInResult(None, "account locked", locked=True)
    if user.disabled:
        verify_secret(_dummy_hash(), password)
        return SignInResult(None, "account disabled")
    member = session.get(MemberRow, user.member_id) if user.member_id else None
    if not verify_secret(user.password_hash, password):
        user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
        locked = user.failed_sign_ins >= MAX_FAILURES
        if locked:
            user.locked_until = moment + LOCK_FOR
            user.failed_sign_ins = 0
        return SignInResult(None, "wrong password", locked=locked)
    if member is not None and not member.active:
        return SignInResult(None, "member inactive")
    user.failed_sign_ins = 0
    user.locked_until = None
    return SignInResult(user, None)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    token: str  # goes in the cookie, never stored
    csrf_token: str


def open_session(session: Session, user_id: int, now: datetime | None = None) -> NewSession:
    moment = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            token_hash=_digest(token),
            user_id=user_id,
            csrf_token=csrf,
            created_at=moment,
            last_seen_at=moment,
            expires_at=moment + SESSION_MAX,
        )
    )
    session.flush()
    return NewSession(token, csrf)


@dataclass(frozen=True)
class LiveSession:
    user: SignedInUser
    csrf_token: str
    token_hash: str


def find_session(session: Session, token: str, now: datetime | None = None) -> LiveSession | None:
    """The live session for a cookie token, or None (unknown, revoked, expired, idle too
    long, user disabled or member inactive). Touches ``last_seen_at``."""
    moment = now or utcnow()
    row = session.get(WebSessionRow, _digest(token))
    if row is None or row.revoked_at is not None or row.expires_at <= moment:
        return None
    if row.last_seen_at + SESSION_IDLE <= moment:
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or user.disabled:
        return None
    member = session.get(MemberRow, user.member_id) if user.member_id else None
    if member is not None and not member.active:
        return None
    if moment - row.last_seen_at > timedelta(seconds=30):
        row.last_seen_at = moment
    return LiveSession(
        SignedInUser(
            user.user_id, user.username, user.member_id, user.role, member.name if member else None
        ),
        row.csrf_token,
        row.token_hash,
    )


def close_session(session: Session, token_hash: str) -> None:
    session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.token_hash == token_hash, WebSessionRow.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def close_user_sessions(session: Session, user_id: int) -> int:
    """Sign a user out everywhere (used when a user is disabled)."""
    result = session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.user_id == user_id, WebSessionRow.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_disabled(session: Session, username: str, disabled: bool) -> UserRow:
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        raise UserError(f"no user '{username}'; see `safehold hub user list`")
    user.disabled = disabled
    if disabled:
        close_user_sessions(session, user.user_id)
    return user


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.username)))
