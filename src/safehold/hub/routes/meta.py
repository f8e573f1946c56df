"""Health, version (the only routes without authentication) and who-am-I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from safehold import __version__
from safehold.exchange import SCHEMA_VERSION, SUPPORTED_VERSIONS
from safehold.hub.auth import Principal, authorize
from safehold.hub.context import hub_context
from safehold.hub.policy import Action

router = APIRouter(prefix="/v1", tags=["meta"])


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """Whether the hub and its database answer (503 when the database does not)."""
    try:
        with hub_context(request).engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/version")
def version() -> dict[str, Any]:
    return {
        "safehold": __version__,
        "exchange_format": SCHEMA_VERSION,
        "accepts": sorted(SUPPORTED_VERSIONS),
    }


@router.get("/me", openapi_extra={"x-safehold-action": Action.WHOAMI.value})
def whoami(principal: Annotated[Principal, Depends(authorize(Action.WHOAMI))]) -> dict[str, Any]:
    """The caller's key id, role and member: lets a member check its key works."""
    return {
        "key_id": principal.key_id,
        "role": principal.role.value,
        "member_id": principal.member_id,
    }
