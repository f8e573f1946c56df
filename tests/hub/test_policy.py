"""Every route, with every role, against the policy table: tier enforcement lives in one place.

The walk finds the routes from the app itself, so a new route that forgets to declare its
action, or declares one its handler does not enforce, fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from safehold.hub.policy import POLICY, PUBLIC_PATHS, WRITERS, Action, Role, may_write
from safehold.hub.routes import ROUTERS
from safehold.store.tiers import RECORD_TIER
from tests.hub.conftest import Hub


def _action_of(route: APIRoute) -> Action | None:
    """The action of the authorize() dependency the route really runs (not what it claims)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        action = getattr(dep.call, "safehold_action", None)
        if action is not None:
            return Action(action)
        stack.extend(dep.dependencies)
    return None


def _api_routes(hub: Hub) -> list[APIRoute]:
    """The app's routes, from the routers it includes; checked against its OpenAPI so that no
    route can be added around ROUTERS unseen."""
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    served = {
        (method.upper(), path)
        for path, item in hub.client.get("/openapi.json").json()["paths"].items()
        for method in item
    }
    walked = {(m, r.path) for r in routes for m in r.methods or ()}
    assert served <= walked, f"routes outside ROUTERS: {served - walked}"
    return routes


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "no-such-id", path)


def test_every_route_but_health_and_version_declares_and_enforces_an_action(hub: Hub) -> None:
    routes = _api_routes(hub)
    assert len(routes) >= 10, "the walk found too few routes to mean anything"
    for route in routes:
        action = _action_of(route)
        if route.path in PUBLIC_PATHS:
            assert action is None, f"{route.path} is public and must not need a key"
            continue
        assert action is not None, f"{route.path} has no authorize() dependency"
        declared = (route.openapi_extra or {}).get("x-safehold-action")
        assert declared == action.value, f"{route.path} documents {declared}, enforces {action}"


def test_the_policy_table_covers_every_action_and_record_type() -> None:
    assert set(POLICY) == set(Action)
    assert set(WRITERS) == set(RECORD_TIER)
    assert all(POLICY[a] for a in Action), "an action nobody may perform is dead code"


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_route_allows_or_denies_each_role_as_the_table_says(hub: Hub, role: str) -> None:
    for route in _api_routes(hub):
        action = _action_of(route)
        for method in sorted(route.methods or ()):
            path = _fill(route.path)
            kwargs: dict[str, Any] = {"headers": hub.headers(role)}
            if method in {"POST", "PUT", "PATCH"}:
                kwargs["json"] = {}
            response = hub.client.request(method, path, **kwargs)
            if action is None:
                assert response.status_code < 400, f"public {method} {path}"
                continue
            if Role(role) in POLICY[action]:
                assert response.status_code not in {401, 403}, (
                    f"{role} should be allowed {method} {path}: {response.status_code} {response.text[:200]}"
                )
            else:
                assert response.status_code == 403, f"{role} should be denied {method} {path}"
                assert response.json()["error"] == "forbidden"


def test_without_a_key_every_protected_route_answers_401(hub: Hub) -> None:
    for route in _api_routes(hub):
        if _action_of(route) is None:
            continue
        for method in route.methods or ():
            response = hub.client.request(method, _fill(route.path))
            assert response.status_code == 401, f"{method} {route.path}"
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_denials_are_audited(hub: Hub) -> None:
    from sqlalchemy import select

    from safehold.store.models import AuditEventRow

    hub.client.get("/v1/admin/members", headers=hub.headers("platform"))
    with hub.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.outcome == "denied")
        ).all()
    assert any(e.action == Action.MEMBERS_READ.value and e.role == "platform" for e in events)


@pytest.mark.parametrize(
    ("role", "record_type", "expected"),
    [
        ("platform", "registry_entry", False),
        ("court", "registry_entry", True),
        ("police", "registry_entry", True),
        ("platform", "behaviour", True),
        ("court", "behaviour", False),
        ("local_authority", "cohort_label", True),
        ("platform", "cohort_label", False),
        ("researcher", "behaviour", False),
        ("operator", "registry_entry", False),
    ],
)
def test_write_policy_by_member_kind(role: str, record_type: str, expected: bool) -> None:
    assert may_write(Role(role), record_type) is expected
