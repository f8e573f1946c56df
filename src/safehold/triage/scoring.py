"""The device score: a number that ranks work, always with the reasons that make it up.

Why: officers triage many devices; the score puts the ones most likely to hold known
material and to show a child being groomed at the top of the queue, and every point it
gives is explained. It also pre-fills indicators that structured offender risk tools ask
about, each with its evidence, instead of inventing a risk number. Humans decide.

Points (capped per part, total at most 115): known items by category severity (up to 50),
near-duplicates of known items (up to 20), warned conversations with a likely child (up to
25), recency of the risky activity against the device's latest activity (up to 5), and,
when a hub checked the device's contacts, contacts that match the offender registry (up to
15: 10 for the first, 5 for each further one). Without a hub the registry part is 0 and no
reason mentions it, so devices triaged with and without one rank alike on the rest.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from safehold.conversation.types import STAGES
from safehold.triage.conversations import ChildConversation
from safehold.triage.media import HashMatch, NearDuplicate
from safehold.triage.registry_contacts import RegistryOutcome

SEVERITY_POINTS = {3: 10.0, 2: 6.0, 1: 3.0, 0: 0.0}
NEAR_FACTOR = 0.6
"""A near-duplicate counts for less than an exact match: it still needs a person to confirm."""
CAPS = {"known": 50.0, "near": 20.0, "conversations": 25.0, "recency": 5.0, "registry": 15.0}


@dataclass(frozen=True)
class Indicator:
    indicator: str
    value: str
    evidence: list[str]


@dataclass
class DeviceScore:
    score: float
    parts: dict[str, float]
    reasons: list[str]
    indicators: list[Indicator] = field(default_factory=list)


def _distinct(items: Sequence[HashMatch] | Sequence[NearDuplicate]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for item in items:
        found[(item.list, item.record)] = item.severity
    return found


def _categories(items: Sequence[HashMatch] | Sequence[NearDuplicate]) -> str:
    counts = Counter(i.category for i in {(i.list, i.record): i for i in items}.values())
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def score_device(
    matches: Sequence[HashMatch],
    near: Sequence[NearDuplicate],
    conversations: Sequence[ChildConversation],
    latest_activity: datetime | None,
    registry: RegistryOutcome | None = None,
) -> DeviceScore:
    reasons: list[str] = []
    indicators: list[Indicator] = []
    parts = dict.fromkeys(CAPS, 0.0)
    known = _distinct(matches)
    if known:
        raw = sum(SEVERITY_POINTS.get(s, 0.0) for s in known.values())
        volume = 1.0 + math.log10(max(1, len(matches)))  # more files of the same items: more
        parts["known"] = min(CAPS["known"], raw * volume)
        reasons.append(
            f"{len(known)} known items in {len(matches)} files match hash sets "
            f"({_categories(matches)}): {parts['known']:.1f} points"
        )
        indicators.append(
            Indicator(
                "known indecent-image items held, by category",
                _categories(matches),
                sorted({f"{m.path} ({m.algorithm} {m.hash}, {m.list})" for m in matches})[:20],
            )
        )
    near_only = {k: v for k, v in _distinct(near).items() if k not in known}
    if near_only:
        raw = sum(SEVERITY_POINTS.get(s, 0.0) for s in near_only.values()) * NEAR_FACTOR
        parts["near"] = min(CAPS["near"], raw)
        distances = sorted({n.distance for n in near if (n.list, n.record) in near_only})
        spread = f"{distances[0]}" if len(distances) == 1 else f"{distances[0]}-{distances[-1]}"
        reasons.append(
            f"{len(near_only)} further known items found as edited copies (PDQ distance "
            f"{spread}, at most 31 counts; {_categories(near)}): "
            f"{parts['near']:.1f} points; confirm by review"
        )
    warned = [c for c in conversations if c.result.label == "risk"]
    if conversations:
        indicators.append(
            Indicator(
                "contact with likely children",
                f"{len(conversations)} conversations",
                [f"{c.conversation_id}: {c.child.reason}" for c in conversations][:20],
            )
        )
    if warned:
        peak = max(c.result.risk for c in warned)
        parts["conversations"] = min(CAPS["conversations"], 15.0 * peak + 5.0 * (len(warned) - 1))
        seen = {s for c in warned for s in c.result.stages_seen}
        stages = [s for s in STAGES if s in seen]
        reasons.append(
            f"{len(warned)} of {len(conversations)} conversations with a likely child raise a "
            f"grooming-pattern warning (peak risk {peak:.2f}; stages {', '.join(stages)}): "
            f"{parts['conversations']:.1f} points"
        )
        indicators.append(
            Indicator(
                "grooming-pattern conversations with likely children",
                ", ".join(stages),
                [row for c in warned for row in c.evidence_rows][:20],
            )
        )
    elif conversations:
        reasons.append(
            f"{len(conversations)} conversations involve a likely child; none raises a "
            "grooming-pattern warning: 0 points"
        )
    risky_times = [c.last_at for c in warned if c.last_at is not None]
    modified = [m.modified for m in matches] + [n.modified for n in near]
    risky_times += [datetime.fromtimestamp(t, tz=UTC) for t in modified if t > 0]
    if risky_times and latest_activity is not None:
        days = (latest_activity - max(risky_times)).days
        parts["recency"] = CAPS["recency"] if days <= 30 else 2.0 if days <= 180 else 0.0
        reasons.append(
            f"the latest risky activity is {max(0, days)} days before the device's latest "
            f"activity ({latest_activity.date().isoformat()}): {parts['recency']:.1f} points"
        )
    if registry is not None:
        _registry_part(registry, parts, reasons, indicators)
    if not reasons:
        reasons.append("no known items, near-duplicates or child conversations found: 0 points")
    parts = {k: round(v, 2) for k, v in parts.items()}
    return DeviceScore(round(sum(parts.values()), 2), parts, reasons, indicators)


def _registry_part(
    registry: RegistryOutcome,
    parts: dict[str, float],
    reasons: list[str],
    indicators: list[Indicator],
) -> None:
    """Points and a reason for registry matches among the device's contacts. The reason
    gives counts and where the contacts were seen, never an address (it travels to the
    hub's cases tier); the matching addresses are in the police-side indicator only."""
    found = registry.matches
    if not found:
        reasons.append(
            f"{registry.checked} device contacts checked against the offender registry "
            "through the hub (pseudonymised): no match: 0 points"
        )
        return
    parts["registry"] = min(CAPS["registry"], 10.0 + 5.0 * (len(found) - 1))
    seen = sorted({s for m in found for s in m.seen_in})
    typologies = Counter(m.typology for m in found if m.typology)
    told = f"; typology {', '.join(f'{k}: {v}' for k, v in sorted(typologies.items()))}"
    reasons.append(
        f"{len(found)} of {registry.checked} device contacts match the offender registry "
        f"through the hub (pseudonymised; seen in {', '.join(seen)}"
        f"{told if typologies else ''}): {parts['registry']:.1f} points; confirm with the "
        "registering member"
    )
    indicators.append(
        Indicator(
            "contacts who are registered sex offenders (registry match, to confirm)",
            f"{len(found)} contacts",
            [f"{m.address} ({m.kind}; {', '.join(m.seen_in)})" for m in found][:20],
        )
    )
