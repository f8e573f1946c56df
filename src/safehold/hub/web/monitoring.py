"""``/monitoring``: how well the alerts are doing, from what reviewers decided.

Alert precision (share of decided alerts that reviewers confirmed) per week, per rule and
per model version, each with its 95% Wilson interval; the median and 90th percentile time
from alert to decision; the backlog of alerts waiting, by age. It warns when precision falls
below the pre-registered minimum PPV of a model in use (``SAFEHOLD_MODEL_DIR``; the page
says "no model configured" otherwise). A platform's users see their own member's alerts;
the operator and auditors see every member's, or one member's with ``?member=``. Aggregates
only: no alert, sender or child is shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from safehold.hub.context import hub_context
from safehold.hub.models_in_use import models_in_use
from safehold.hub.monitoring import (
    BACKLOG_STATUSES,
    DecisionFact,
    Monitoring,
    Proportion,
    alert_fact,
    backlog,
    monitor,
    outcomes,
)
from safehold.hub.policy import Action
from safehold.hub.web.session import require_user, user_event
from safehold.hub.web.templating import NAV, render
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.statistics import alerts_since, decisions_on, waiting_alerts
from safehold.store.types import utcnow
from safehold.store.users import SignedInUser

router = APIRouter(include_in_schema=False)

Viewer = Annotated[SignedInUser, Depends(require_user(Action.MONITORING_READ))]
COALITION_ROLES = frozenset({"operator", "auditor"})

for _role in ("platform", "operator", "auditor"):
    NAV.setdefault(_role, []).append(("/monitoring", "Monitoring"))


def _bars(
    rows: list[tuple[str, Proportion]], minimum: float | None, width: int = 640
) -> dict[str, Any]:
    """Coordinates for an SVG chart of proportions with their intervals (CSP forbids inline
    styles, so the page draws with SVG attributes)."""
    left, row_height, bar_width = 150, 22, width - 150 - 110
    bars = []
    for index, (label, p) in enumerate(rows):
        if p.value is None or p.interval is None:
            continue
        low, high = p.interval
        bars.append(
            {
                "label": label,
                "y": index * row_height + 4,
                "width": round(p.value * bar_width, 1),
                "low": round(left + low * bar_width, 1),
                "high": round(left + high * bar_width, 1),
                "text": f"{p.value:.0%} ({p.hits}/{p.total})",
                "below": minimum is not None and p.value < minimum,
            }
        )
    return {
        "width": width,
        "height": max(1, len(rows)) * row_height + 8,
        "left": left,
        "bar_width": bar_width,
        "target": None if minimum is None else round(left + minimum * bar_width, 1),
        "bars": bars,
    }


@router.get("/monitoring")
def monitoring_page(
    request: Request,
    user: Viewer,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
    member: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    hub = hub_context(request)
    scope: str | None = user.member_id
    if user.role in COALITION_ROLES:
        scope = member.strip() or None
    now = utcnow()
    since = now - timedelta(weeks=weeks)
    models, problems = models_in_use(hub.settings.model_dirs)
    with hub.sessions() as session, session.begin():
        recent = alerts_since(session, scope, since)
        waiting = waiting_alerts(session, scope, BACKLOG_STATUSES)
        rows = {r.alert_id: r for r in [*recent, *waiting]}
        decisions = decisions_on(session, rows)
        audit.append(
            session,
            user_event(
                user,
                Action.MONITORING_READ.value,
                Outcome.OK,
                detail={"member": scope or "all", "weeks": weeks, "alerts": len(rows)},
            ),
        )
        facts = [
            alert_fact(r.alert_id, r.member_id, r.created_at, r.status, r.payload)
            for r in rows.values()
        ]
        decision_facts = [
            DecisionFact(
                alert_id=str(d.alert_id),
                kind=d.kind,
                created_at=d.created_at,
                status=d.status,
                confirmed_at=d.confirmed_at,
            )
            for d in decisions
            if d.alert_id is not None
        ]
    recent_ids = {r.alert_id for r in recent}
    result: Monitoring = monitor(
        [f for f in facts if f.alert_id in recent_ids],
        decision_facts,
        now,
        [(m.version, m.title, m.minimum_ppv) for m in models],
    )
    # The backlog counts every waiting alert, not only those of the window.
    waiting_backlog = backlog(facts, set(outcomes(decision_facts)), now)
    minimum = min((m.minimum_ppv for m in models), default=None)
    return render(
        request,
        "monitoring.html",
        {
            "m": result,
            "backlog": waiting_backlog,
            "models": models,
            "model_problems": problems,
            "weeks": weeks,
            "scope": scope,
            "coalition": user.role in COALITION_ROLES,
            "member_filter": member,
            "week_chart": _bars(result.by_week, minimum),
            "rule_chart": _bars(result.by_rule, None),
            "model_chart": _bars(result.by_model, minimum),
        },
    )
