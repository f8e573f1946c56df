"""Building the FastAPI application: database, migrations, audit spool, routers, CORS."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from safehold import __version__
from safehold.hub.context import HubContext
from safehold.hub.errors import (
    ApiError,
    api_error_handler,
    database_error_handler,
    validation_error_handler,
)
from safehold.hub.routes import ROUTERS
from safehold.hub.settings import HubSettings
from safehold.hub.web import mount_web
from safehold.store.audit import AuditLog
from safehold.store.database import make_engine, make_sessionmaker
from safehold.store.migrate import upgrade

DESCRIPTION = """
The Safehold coalition hub. Members contribute pseudonymised, exchange-format records;
platforms check their accounts against the registry (match or no match, never the list)
and share signals; every access is audited in a hash-chained log.

Authenticate with `Authorization: Bearer <API key>`. Only `/v1/health` and `/v1/version`
answer without a key. Each route's `x-safehold-action` names the action the coalition's
policy table allows or denies per role.
"""


def create_app(settings: HubSettings | None = None, engine: Engine | None = None) -> FastAPI:
    """The hub on ``settings`` (default: from the environment). The database is created and
    migrated to the latest schema if needed, and audit events spooled while it was down are
    appended."""
    settings = settings or HubSettings.from_env()
    engine = engine or make_engine(settings.database_url)
    upgrade(engine)
    audit = AuditLog(engine, spool=settings.data_dir / "audit-spool.jsonl")
    audit.drain_spool()

    app = FastAPI(
        title="Safehold hub",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.hub = HubContext(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), audit=audit
    )
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
    for router in ROUTERS:
        app.include_router(router)
    mount_web(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
        )
    return app
