"""Registry checks and the HTTP layer against a fake hub: chunking, 429, retries, errors."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from safehold.client.check import (
    CheckAccount,
    CheckError,
    check_accounts,
    row_ref,
)
from safehold.client.hub_api import (
    HubApi,
    HubError,
    HubUnreachableError,
    RetryPolicy,
    check_api_key,
    display_url,
    parse_retry_after,
)
from safehold.exchange import IdentifierKind, SubjectRef
from tests.client.fake_hub import HUB_URL, FakeHub, make_key


def pseudo(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ref(kind: IdentifierKind, text: str) -> SubjectRef:
    return SubjectRef(kind=kind, pseudonym=pseudo(text), key_version=1)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def accounts(n: int) -> list[CheckAccount]:
    return [CheckAccount(row_ref(i), (ref(IdentifierKind.EMAIL, f"e{i}"),)) for i in range(n)]


def test_matches_come_back_in_order_in_capped_requests() -> None:
    fake = FakeHub(disclose_typology=True)
    fake.registry[("email", pseudo("e3"), 1)] = "grooming"
    fake.registry[("email", pseudo("e5"), 1)] = "contact"
    api = HubApi(fake.client(), fake.add_key("plat-a"), RetryPolicy(sleep=Sleeps()))
    sizes: list[int] = []
    results = check_accounts(api, accounts(7), per_request=3, on_request=sizes.append)
    assert sizes == [3, 3, 1]
    assert [len(r["accounts"]) for r in fake.check_requests] == [3, 3, 1]
    assert [r.ref for r in results] == [f"r{i}" for i in range(7)]
    assert [r.ref for r in results if r.match] == ["r3", "r5"]
    assert {r.ref: r.typology for r in results if r.match} == {"r3": "grooming", "r5": "contact"}
    assert all(r.typology is None for r in results if not r.match)


def test_429_waits_as_the_hub_says_then_succeeds() -> None:
    fake = FakeHub(rate_limited=2)
    fake.registry[("email", pseudo("e1"), 1)] = "other"
    sleeps = Sleeps()
    api = HubApi(fake.client(), fake.add_key("plat-a"), RetryPolicy(attempts=2, sleep=sleeps))
    results = check_accounts(api, accounts(3))
    assert sleeps == [7.0, 7.0]
    assert len(fake.check_requests) == 3
    assert [r.match for r in results] == [False, True, False]


def test_429_for_too_long_stops_with_a_clear_error() -> None:
    fake = FakeHub(rate_limited=100)
    sleeps = Sleeps()
    api = HubApi(
        fake.client(),
        fake.add_key("plat-a"),
        RetryPolicy(rate_limited_attempts=4, sleep=sleeps),
    )
    with pytest.raises(CheckError, match="429 rate_limited") as caught:
        check_accounts(api, accounts(2))
    assert len(sleeps) == 3
    assert caught.value.checked == 0


def test_too_many_accounts_per_request_is_refused_locally() -> None:
    api = HubApi(FakeHub().client(), make_key(1))
    with pytest.raises(ValueError, match="10,000"):
        check_accounts(api, accounts(1), per_request=10_001)


def test_an_answer_missing_a_ref_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [{"ref": "r0", "match": False}], "checked": 1})

    client = httpx.Client(base_url=HUB_URL, transport=httpx.MockTransport(handler))
    with pytest.raises(CheckError, match="lacks 1 of the 2 accounts"):
        check_accounts(HubApi(client, make_key(1)), accounts(2))


def test_refs_are_validated_and_unique() -> None:
    with pytest.raises(ValueError, match="check ref"):
        CheckAccount("a b", (ref(IdentifierKind.EMAIL, "x"),))
    with pytest.raises(ValueError, match="no identifiers"):
        CheckAccount("r1", ())
    twice = [CheckAccount("r1", (ref(IdentifierKind.EMAIL, "x"),))] * 2
    with pytest.raises(ValueError, match="used twice"):
        check_accounts(HubApi(FakeHub().client(), make_key(1)), twice)


def test_network_failures_are_bounded_and_never_quote_the_url_or_key() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    key = make_key(9)
    client = httpx.Client(
        base_url="http://secret-host.test", transport=httpx.MockTransport(handler)
    )
    sleeps = Sleeps()
    api = HubApi(
        client, key, RetryPolicy(attempts=3, base_delay=1.0, sleep=sleeps, jitter=lambda: 1.0)
    )
    with pytest.raises(HubUnreachableError) as caught:
        api.whoami()
    assert len(calls) == 3
    assert sleeps == [1.0, 2.0], "exponential backoff"
    assert "secret-host" not in str(caught.value) and key not in str(caught.value)
    assert all(c.headers["authorization"] == f"Bearer {key}" for c in calls)


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=lambda: 1.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 6, 20)] == [1.0, 2.0, 4.0, 30.0, 30.0]
    assert RetryPolicy(jitter=lambda: 0.0).backoff(2) == 1.0


def test_hub_errors_carry_the_error_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            json={
                "error": "tier_denied",
                "message": "platforms may not write registry entries",
                "details": [{"index": 0, "field": "record_type", "reason": "not allowed"}],
            },
        )

    client = httpx.Client(base_url=HUB_URL, transport=httpx.MockTransport(handler))
    with pytest.raises(HubError) as caught:
        HubApi(client, make_key(1)).request("POST", "/v1/batches", content=b"x")
    assert caught.value.status == 403
    assert caught.value.code == "tier_denied"
    assert caught.value.details[0]["field"] == "record_type"


def test_framework_validation_details_are_not_echoed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"detail": [{"input": "a-pseudonym-value", "msg": "bad"}]})

    client = httpx.Client(base_url=HUB_URL, transport=httpx.MockTransport(handler))
    with pytest.raises(HubError) as caught:
        HubApi(client, make_key(1)).request("POST", "/v1/registry/check", json={})
    assert "a-pseudonym-value" not in str(caught.value)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    seconds = parse_retry_after(later)
    assert seconds is not None and 80 <= seconds <= 90
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(past) == 0.0


def test_api_keys_are_checked_without_repeating_them() -> None:
    good = make_key(3)
    assert check_api_key(f"  {good}\n") == good
    for bad in ("", "shk_123_abc", "key_0123456789abcdef_x", "shk_0123456789ABCDEF_x", f"{good} x"):
        with pytest.raises(ValueError, match="not a Safehold API key") as caught:
            check_api_key(bad)
        assert bad.strip() == "" or bad not in str(caught.value)
    assert good not in repr(HubApi(FakeHub().client(), good))


def test_a_concurrent_write_409_is_retried_but_a_conflict_is_not() -> None:
    answers = [
        httpx.Response(
            409,
            json={"error": "concurrent_write", "message": "retry", "details": []},
            headers={"Retry-After": "5"},
        ),
        httpx.Response(201, json={"batch_id": "b1", "replayed": False}),
        httpx.Response(409, json={"error": "batch_conflict", "message": "no", "details": []}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    sleeps = Sleeps()
    client = httpx.Client(base_url=HUB_URL, transport=httpx.MockTransport(handler))
    api = HubApi(client, make_key(1), RetryPolicy(sleep=sleeps))
    assert api.request("POST", "/v1/batches", content=b"x")["batch_id"] == "b1"
    assert sleeps == [5.0]
    with pytest.raises(HubError, match="batch_conflict"):
        api.request("POST", "/v1/batches", content=b"x")
    assert sleeps == [5.0]


def test_urls_are_shown_without_credentials() -> None:
    assert display_url("https://user:pw@hub.example.org/") == "https://hub.example.org"
    assert display_url("http://hub.test") == "http://hub.test"
