"""The hub's routers, one module per area; ``ROUTERS`` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from safehold.hub.routes import (
    admin,
    alert_delivery,
    alerts,
    audit,
    batches,
    cases,
    decisions,
    meta,
    referrals,
    registry,
    signals,
)

ROUTERS: tuple[APIRouter, ...] = (
    meta.router,
    admin.router,
    batches.router,
    registry.router,
    signals.router,
    referrals.router,
    alerts.router,
    audit.router,
    cases.router,
    alert_delivery.router,
    decisions.router,
)
