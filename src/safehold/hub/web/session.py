"""Who is signed in, and the one dependency every web page uses: ``require_user(Action.X)``.

It reads the session cookie, finds the live session row (``store.users.find_session``),
checks the user's role against ``policy.POLICY`` like the API's ``authorize`` does (a
denial is audited), and on any method but GET/HEAD checks the CSRF token, sent as the
``csrf_token`` form field or the ``X-CSRF-Token`` header (htmx sends the header on every
request, from ``hx-headers`` in the base template). Pages never test roles themselves."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import cache
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import Response

from safehold.hub.context import hub_context
from safehold.hub.policy import Action, Role, allowed
from safehold.store.audit import AuditEvent, Outcome
from safehold.store.users import LiveSession, SignedInUser, find_session

SESSION_COOKIE = "safehold_session"
SIGNIN_CSRF_COOKIE = "safehold_signin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WebError(Exception):
    """Answered as an HTML page (or an htmx fragment) with ``status`` and ``message``."""

    def __init__(self, status: int, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title


class SignInRequiredError(Exception):
    """No live session: pages redirect to /signin, htmx requests get 401 + HX-Redirect."""


def user_event(
    user: SignedInUser,
    action: str,
    outcome: str,
    object_ids: list[str] | tuple[str, ...] = (),
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    """An audit event by a signed-in user."""
    return AuditEvent(
        actor=user.actor,
        role=user.role,
        action=action,
        outcome=outcome,
        member_id=user.member_id,
        object_ids=tuple(object_ids),
        detail={"via": "web", **(detail or {})},
    )


def live_session(request: Request) -> LiveSession | None:
    """The request's live session (cached on the request), or None."""
    if hasattr(request.state, "web_session"):
        cached: LiveSession | None = request.state.web_session
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    found: LiveSession | None = None
    if token:
        hub = hub_context(request)
        with hub.sessions() as session, session.begin():
            found = find_session(session, token)
    request.state.web_session = found
    return found


async def _presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def csrf_matches(expected: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(expected.encode(), presented.encode())


def _refuse_csrf(request: Request, user: SignedInUser | None, action: str) -> WebError:
    event = (
        user_event(user, action, Outcome.DENIED, detail={"path": request.url.path, "why": "csrf"})
        if user
        else AuditEvent(
            actor="anonymous",
            role="none",
            action=action,
            outcome=Outcome.DENIED,
            detail={"path": request.url.path, "why": "csrf", "via": "web"},
        )
    )
    hub_context(request).audit.record(event)
    return WebError(
        403,
        "This form was sent without its security token (CSRF), so it was refused. "
        "Reload the page and try again.",
        "Refused",
    )


@cache
def require_user(action: Action) -> Callable[..., object]:
    """The dependency for web routes bound to ``action`` (one object per action, so the
    policy test finds which action each route declares)."""

    async def dependency(request: Request) -> SignedInUser:
        live = live_session(request)
        if live is None:
            raise SignInRequiredError
        user = live.user
        if not allowed(Role(user.role), action):
            hub_context(request).audit.record(
                user_event(user, action.value, Outcome.DENIED, detail={"path": request.url.path})
            )
            raise WebError(
                403, f"Your role ({user.role}) may not use this page ({action.value}).", "Forbidden"
            )
        if request.method not in SAFE_METHODS and not csrf_matches(
            live.csrf_token, await _presented_csrf(request)
        ):
            raise _refuse_csrf(request, user, action.value)
        return user

    dependency.safehold_action = action  # type: ignore[attr-defined]
    return dependency


def csrf_token_of(request: Request) -> str:
    """The CSRF token templates put in forms (the session's, or the sign-in page's)."""
    live = live_session(request)
    if live is not None:
        return live.csrf_token
    token = getattr(request.state, "signin_csrf", None) or request.cookies.get(SIGNIN_CSRF_COOKIE)
    return str(token or "")


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https" or hub_context(request).settings.secure_cookies


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


def signin_redirect_target(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return "/signin?next=" + quote(path, safe="")


CurrentUser = SignedInUser
"""Type of the object ``require_user`` gives a route."""

AnyUser = Annotated[SignedInUser, Depends(require_user(Action.WEB_SESSION))]
