"""Alerts to a platform's webhook, signed so the receiver can trust them and refuse replays.

Why HMAC with a timestamp: the receiver checks that the body was signed with the secret it
shares with us (HMAC-SHA256 over ``"<timestamp>.<body>"``) and that the timestamp is recent,
so a captured delivery cannot be sent to it again later. Each delivery also names itself
(``Safehold-Delivery``) and carries alert ids, so a delivery repeated after a restart is
recognisable and harmless."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import polars as pl

SIGNATURE_HEADER = "Safehold-Signature"
DELIVERY_HEADER = "Safehold-Delivery"
DEFAULT_TOLERANCE = 300


class WebhookSignatureError(ValueError):
    """A delivery whose signature does not check out; says why."""


class WebhookDeliveryError(ConnectionError):
    """The webhook did not take the delivery."""


def sign(body: bytes, secret: bytes, timestamp: int) -> str:
    """The signature header value: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    body: bytes,
    header: str,
    secret: bytes,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """What a receiver runs: raise ``WebhookSignatureError`` unless ``header`` signs
    ``body`` with ``secret`` within ``tolerance`` seconds of ``now``."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        raise WebhookSignatureError("the signature header must look like t=<seconds>,v1=<hex>")
    timestamp = int(parts["t"])
    moment = time.time() if now is None else now
    if abs(moment - timestamp) > tolerance:
        raise WebhookSignatureError(
            f"the signature is {abs(moment - timestamp):.0f}s from now (allowed {tolerance}s): "
            "a replayed or delayed delivery"
        )
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts["v1"]):
        raise WebhookSignatureError("the signature does not match the body and the secret")


def alert_body(alerts: pl.DataFrame) -> bytes:
    """The alerts as JSON (times in ISO 8601 UTC), in alert id order."""
    rows = alerts.sort("alert_id").with_columns(
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
    )
    return json.dumps({"alerts": rows.to_dicts()}, sort_keys=True).encode()


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    secret: bytes,
    alerts: pl.DataFrame,
    *,
    delivery_id: str,
    now: float | None = None,
) -> None:
    """POST the signed alerts; raise ``WebhookDeliveryError`` unless the answer is 2xx."""
    body = alert_body(alerts)
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret, timestamp),
        DELIVERY_HEADER: delivery_id,
    }
    try:
        answer = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise WebhookDeliveryError(f"webhook {url} unreachable ({type(exc).__name__})") from None
    if not 200 <= answer.status_code < 300:
        raise WebhookDeliveryError(f"webhook {url} answered {answer.status_code}")
