"""The hub starts on an empty database, answers health and version without a key, and
refuses everything else without one."""

from __future__ import annotations

from tests.hub.conftest import Hub


def test_health_and_version_need_no_key(hub: Hub) -> None:
    assert hub.client.get("/v1/health").json()["status"] == "ok"
    assert hub.client.get("/v1/version").json()["exchange_format"] == "1.0"


def test_other_routes_need_a_valid_key(hub: Hub) -> None:
    assert hub.client.get("/v1/me").status_code == 401
    bad = {"Authorization": "Bearer shk_0123456789abcdef_wrong"}
    assert hub.client.get("/v1/me", headers=bad).status_code == 401
    me = hub.client.get("/v1/me", headers=hub.headers("platform")).json()
    assert me == {"key_id": me["key_id"], "role": "platform", "member_id": "plat-a"}
