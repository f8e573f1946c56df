"""Sending safeguarding referrals to the hub and reading them back. A referral is posted
only when an officer's command asks; a resend of the same referral is a replay at the hub,
so the post is safe to retry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from safehold.client.hub_api import HubApi
from safehold.exchange import Referral


@dataclass(frozen=True)
class SentReferral:
    referral_id: str
    case_id: str
    to_member: str
    replayed: bool


def send_referral(api: HubApi, referral: Referral) -> SentReferral:
    """Post one referral; raises HubError (with the hub's per-field details) if refused."""
    body = api.request("POST", "/v1/referrals", json={"referral": referral.model_dump(mode="json")})
    return SentReferral(
        referral_id=str(body["referral_id"]),
        case_id=str(body["case_id"]),
        to_member=str(body["to_member"]),
        replayed=bool(body["replayed"]),
    )


def read_referrals(api: HubApi) -> list[dict[str, Any]]:
    """The referrals this member made, or that are addressed to it."""
    found: list[dict[str, Any]] = api.request("GET", "/v1/referrals").get("referrals", [])
    return found
