"""The hub's web UI: server-rendered Jinja2 pages with htmx, inside the hub.

Owns the sign-in pages, the alert queue and alert pages, decisions, the audit search, the
templates and the static files (our CSS and a vendored htmx, ``static/vendor/README.md``).
Also the cases pages (``cases``), monitoring (``monitoring``) and the public transparency
page (``transparency``, which serves stored releases and draws no noise).
Every page is bound to a ``policy.Action`` through ``session.require_user`` and reads only
the signed-in user's member's data. May import ``exchange``, ``store``, ``klaxon`` and the
rest of ``hub``; nothing imports it but ``hub.app``.

To add pages: write a module with an ``APIRouter`` (``include_in_schema=False``) whose
routes take ``Depends(require_user(Action.X))``, and add its router to ``WEB_ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from safehold.hub.web import alerts, audit, cases, decisions, monitoring, signin, transparency
from safehold.hub.web.errors import install as install_errors
from safehold.hub.web.static import mount_static

WEB_ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    alerts.router,
    decisions.router,
    audit.router,
    transparency.router,
    cases.router,
    monitoring.router,
)
"""The web UI's routers, one per area; add new ones here (one line each)."""


def mount_web(app: FastAPI) -> None:
    """Add the web UI to the hub app: static files, error pages, security headers, routes."""
    mount_static(app)
    install_errors(app)
    for router in WEB_ROUTERS:
        app.include_router(router)
