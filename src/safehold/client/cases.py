"""Pushing device cases (triaged devices' summaries) to the hub's cases tier and reading
them back. Only the summary travels (score, reasons, counts, when), never evidence; a
resend of the same summary is a replay at the hub, so the push is safe to retry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from safehold.client.hub_api import HubApi
from safehold.exchange.cases import DeviceCaseSummary


@dataclass(frozen=True)
class PushedCase:
    device_id: str
    case_id: str
    outcome: str
    """``created``, ``updated`` or ``replayed``."""


def push_device_case(api: HubApi, summary: DeviceCaseSummary) -> PushedCase:
    """Post one device case; raises HubError (with the hub's per-field details) if refused."""
    body = api.request("POST", "/v1/cases", json={"summary": summary.model_dump(mode="json")})
    return PushedCase(
        device_id=str(body["device_id"]), case_id=str(body["case_id"]), outcome=str(body["outcome"])
    )


def read_device_cases(api: HubApi) -> list[dict[str, Any]]:
    """This member's device cases, highest priority first."""
    found: list[dict[str, Any]] = api.request("GET", "/v1/cases").get("cases", [])
    return found
