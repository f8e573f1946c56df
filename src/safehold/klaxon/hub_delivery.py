"""Alerts from a klaxon worker to the hub's alerts tier, over HTTP (``POST /v1/alerts``).

Why over HTTP and idempotent: the worker runs at the platform and holds only the
platform's API key; the hub stores each alert id once (a later, fuller version of the same
alert replaces the payload), so a message delivered again after a kill sends the same alerts
again harmlessly. The worker acknowledges a message only after the hub said 2xx."""

from __future__ import annotations

import httpx
import polars as pl

from safehold.klaxon.webhook import alert_body

ALERTS_PATH = "/v1/alerts"
MAX_PER_REQUEST = 1_000
"""Alerts in one request (the hub's limit)."""


class HubDeliveryError(ConnectionError):
    """The hub did not take the alerts; the message comes again and they are sent again."""


async def deliver_to_hub(
    client: httpx.AsyncClient, hub_url: str, api_key: str, alerts: pl.DataFrame
) -> int:
    """POST the alerts, ``MAX_PER_REQUEST`` at a time; returns how many the hub had not
    stored before. Raises ``HubDeliveryError`` unless every request is answered 2xx."""
    url = hub_url.rstrip("/") + ALERTS_PATH
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    new = 0
    for start in range(0, alerts.height, MAX_PER_REQUEST):
        body = alert_body(alerts.slice(start, MAX_PER_REQUEST))
        try:
            answer = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise HubDeliveryError(f"hub {url} unreachable ({type(exc).__name__})") from None
        if not 200 <= answer.status_code < 300:
            raise HubDeliveryError(f"hub {url} answered {answer.status_code}: {answer.text[:300]}")
        new += int(answer.json().get("new", 0))
    return new
