"""Signed webhook deliveries: a receiver accepts ours and refuses forged or replayed ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from safehold.klaxon.engine import screen
from safehold.klaxon.rules import load_rules
from safehold.klaxon.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    WebhookDeliveryError,
    WebhookSignatureError,
    alert_body,
    deliver,
    sign,
    verify,
)
from tests.klaxon.builders import T0, event, flags, prepared

SECRET = b"test-webhook-secret"


def _alerts(tmp_path: Path):  # type: ignore[no-untyped-def]
    fs = flags(tmp_path, registry=("reg",))
    return screen(prepared([event("reg", "kid", T0)]), fs, load_rules())


def test_a_delivery_is_signed_and_verifies(tmp_path: Path) -> None:
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    alerts = _alerts(tmp_path)

    async def send() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
            await deliver(client, "https://platform.example/hook", SECRET, alerts,
                          delivery_id="alerts:7", now=1_000_000)  # fmt: skip

    asyncio.run(send())
    request = received[0]
    assert request.headers[DELIVERY_HEADER] == "alerts:7"
    verify(request.content, request.headers[SIGNATURE_HEADER], SECRET, now=1_000_010)
    assert alerts["alert_id"][0].encode() in request.content
    assert b"the sender is flagged" in request.content


def test_forged_stale_and_malformed_signatures_are_refused(tmp_path: Path) -> None:
    body = alert_body(_alerts(tmp_path))
    header = sign(body, SECRET, 1_000_000)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(body + b" ", header, SECRET, now=1_000_000)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(body, header, b"another secret", now=1_000_000)
    with pytest.raises(WebhookSignatureError, match="replayed or delayed"):
        verify(body, header, SECRET, now=1_000_000 + 301)
    with pytest.raises(WebhookSignatureError, match="must look like"):
        verify(body, "v1=abc", SECRET, now=1_000_000)


def test_a_refusing_webhook_is_an_error(tmp_path: Path) -> None:
    alerts = _alerts(tmp_path)

    async def send() -> None:
        transport = httpx.MockTransport(lambda _request: httpx.Response(503))
        async with httpx.AsyncClient(transport=transport) as client:
            await deliver(client, "https://platform.example/hook", SECRET, alerts,
                          delivery_id="alerts:8")  # fmt: skip

    with pytest.raises(WebhookDeliveryError, match="answered 503"):
        asyncio.run(send())
