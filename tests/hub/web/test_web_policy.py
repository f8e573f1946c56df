"""Every web route, with a signed-in user of every role, against the policy table (the API's
walk is tests/hub/test_policy.py). A web route that forgets ``require_user`` fails here."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from safehold.hub.policy import POLICY, PUBLIC_PATHS, Action, Role
from safehold.hub.web import WEB_ROUTERS
from tests.hub.conftest import Hub
from tests.hub.web.conftest import add_web_user, sign_in


def _action_of(route: APIRoute) -> Action | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        action = getattr(dep.call, "safehold_action", None)
        if action is not None:
            return Action(action)
        stack.extend(dep.dependencies)
    return None


def _routes() -> list[APIRoute]:
    return [r for router in WEB_ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "1" if m.group(0).endswith("pk}") else "no-such", path)


def test_every_web_route_is_public_or_declares_an_action() -> None:
    routes = _routes()
    assert len(routes) >= 8
    for route in routes:
        action = _action_of(route)
        if route.path in PUBLIC_PATHS:
            assert action is None, f"{route.path} is public"
        else:
            assert action is not None, f"{route.path} has no require_user() dependency"


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_web_route_allows_or_denies_each_role_as_the_table_says(
    web_hub: Hub, role: str
) -> None:
    add_web_user(web_hub, f"u-{role}", role)
    user = sign_in(web_hub, f"u-{role}")
    for route in _routes():
        action = _action_of(route)
        if action is None:
            continue
        for method in sorted(route.methods or ()):
            path = _fill(route.path)
            if path == "/signout":
                continue  # would end the session the walk uses
            if method == "POST":
                answer = user.post(path)
            else:
                answer = user.client.request(method, path, follow_redirects=False)
            if Role(role) in POLICY[action]:
                assert answer.status_code not in {401, 403}, f"{role} {method} {path}"
                assert "/signin" not in answer.headers.get("location", "")
            else:
                assert answer.status_code == 403, f"{role} should be denied {method} {path}"


def test_without_a_session_every_protected_web_route_sends_you_to_sign_in(web_hub: Hub) -> None:
    for route in _routes():
        if _action_of(route) is None:
            continue
        for method in route.methods or ():
            answer = web_hub.client.request(method, _fill(route.path), follow_redirects=False)
            assert answer.status_code == 303, f"{method} {route.path}"
            assert answer.headers["location"].startswith("/signin")
