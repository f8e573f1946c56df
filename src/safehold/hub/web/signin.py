"""Signing in and out, and the home page.

The sign-in form is protected against CSRF before any session exists by a double-submit
token: GET /signin sets a random token in a cookie (HttpOnly, SameSite=Strict) and in the
form; POST must bring both, equal. Every attempt is audited (never the password); wrong
passwords count towards the lock-out in ``store.users``. The page says the same thing for
an unknown user, a wrong password and a locked account, so it reveals nothing about who
has an account."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from safehold.hub.context import hub_context
from safehold.hub.policy import Action
from safehold.hub.web.session import (
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    csrf_matches,
    live_session,
    require_user,
    set_cookie,
    user_event,
)
from safehold.hub.web.templating import NAV, render
from safehold.store import audit
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.users import (
    SESSION_MAX,
    SignedInUser,
    check_password,
    close_session,
    open_session,
)

router = APIRouter(include_in_schema=False)

FAILED = "The username or password is not right, or the account is locked. Try again later."


def _safe_next(target: str | None) -> str:
    """Only a local path (never another site) after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _signin_page(request: Request, next_path: str, message: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(32)
    request.state.signin_csrf = token
    response = render(
        request, "signin.html", {"next": next_path, "message": message}, status=status
    )
    set_cookie(request, response, SIGNIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> Response:
    if live_session(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _signin_page(request, _safe_next(next), None, 200)


@router.post("/signin")
def signin(
    request: Request,
    username: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    hub = hub_context(request)
    if not csrf_matches(request.cookies.get(SIGNIN_CSRF_COOKIE, ""), csrf_token or None) or not (
        request.cookies.get(SIGNIN_CSRF_COOKIE)
    ):
        hub.audit.record(
            AuditEvent(
                actor="anonymous",
                role="none",
                action="web.signin",
                outcome=Outcome.DENIED,
                detail={"via": "web", "why": "csrf"},
            )
        )
        return _signin_page(
            request,
            _safe_next(next),
            "The sign-in form was sent without its security token. Try again.",
            403,
        )
    with hub.sessions() as session, session.begin():
        result = check_password(session, username, password)
        if result.user is None:
            audit.append(
                session,
                AuditEvent(
                    actor=f"user:{username.strip()[:64]}" if username.strip() else "anonymous",
                    role="none",
                    action="web.signin",
                    outcome=Outcome.DENIED,
                    detail={"via": "web", "why": result.problem, "locked": result.locked},
                ),
            )
            user = None
        else:
            row = result.user
            user = SignedInUser(row.user_id, row.username, row.member_id, row.role)
            opened = open_session(session, row.user_id)
            audit.append(session, user_event(user, "web.signin", Outcome.OK))
    if user is None:
        return _signin_page(request, _safe_next(next), FAILED, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(
        request, response, SESSION_COOKIE, opened.token, max_age=int(SESSION_MAX.total_seconds())
    )
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(
    request: Request,
    user: Annotated[SignedInUser, Depends(require_user(Action.WEB_SESSION))],
) -> Response:
    live = live_session(request)
    hub = hub_context(request)
    with hub.sessions() as session, session.begin():
        if live is not None:
            close_session(session, live.token_hash)
        audit.append(session, user_event(user, "web.signout", Outcome.OK))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(
    request: Request,
    user: Annotated[SignedInUser, Depends(require_user(Action.WEB_SESSION))],
) -> Response:
    if user.role == "platform":
        return RedirectResponse("/alerts", status_code=303)
    return render(request, "home.html", {"links": NAV.get(user.role, [])})
