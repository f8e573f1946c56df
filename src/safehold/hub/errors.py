"""One error shape for every route: ``{"error": code, "message": text, "details": [...]}``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from safehold.hub.context import hub_context
from safehold.store.audit import AuditEvent, Outcome


class ApiError(Exception):
    """Raised by routes and dependencies; becomes a JSON error body with a clear message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 echoes the input back; ours names the field and the reason only,
    so that no identifier or secret sent in a request comes back in an error."""
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            or "(body)",
            "reason": str(error.get("msg", "invalid")),
        }
        for error in exc.errors()
    ]
    error = ApiError(422, "invalid_request", "the request does not match the API", details)
    return JSONResponse(error.body(), status_code=422)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The database is unreachable or failed mid-request: every transaction of the request
    was rolled back, so the client may retry as it was. The event goes to the audit spool
    if the database cannot take it."""
    hub_context(request).audit.record(
        AuditEvent(
            actor="hub",
            role="none",
            action="request",
            outcome=Outcome.ERROR,
            detail={
                "path": request.url.path,
                "method": request.method,
                "error": "database_unavailable",
                "exception": type(exc).__name__,
            },
        )
    )
    error = ApiError(
        503,
        "database_unavailable",
        "the hub's database is unavailable; nothing from this request was stored: "
        "retry the same request later",
        headers={"Retry-After": "30"},
    )
    return JSONResponse(error.body(), status_code=503, headers=error.headers)
