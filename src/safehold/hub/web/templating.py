"""Rendering pages: one Jinja2 environment over ``templates/``, autoescaped, with what every
page needs (the signed-in user, the CSRF token, the current path)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from safehold.hub.web.session import csrf_token_of, live_session

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")

templates = Jinja2Templates(directory=str(TEMPLATES))

NAV: dict[str, list[tuple[str, str]]] = {
    "platform": [("/alerts", "Alert queue")],
    "auditor": [("/audit", "Audit trail")],
    "operator": [("/audit", "Audit trail")],
}
"""Role -> (path, label) of the pages in its navigation bar and home page. Modules that add
pages append here, e.g. ``NAV.setdefault("police", []).append(("/cases", "Cases"))``."""
templates.env.globals["NAV"] = NAV


def _when(value: datetime | str | None) -> str:
    """A time as reviewers read it: UTC, to the minute."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(value: object, length: int = 12) -> str:
    text = str(value or "")
    return text if len(text) <= length else text[:length] + "…"


templates.env.filters["when"] = _when
templates.env.filters["short"] = _short


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render ``name`` with ``user``, ``csrf_token`` and ``path`` always available."""
    live = live_session(request)
    full: dict[str, Any] = {
        "user": live.user if live else None,
        "csrf_token": csrf_token_of(request),
        "path": request.url.path,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, full, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
