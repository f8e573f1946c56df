"""What every request shares: settings, the database, the audit log and the key cache."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from safehold.hub.settings import HubSettings
from safehold.store.audit import AuditLog
from safehold.store.credentials import VerifiedKeyCache


@dataclass
class HubContext:
    settings: HubSettings
    engine: Engine
    sessions: sessionmaker[Session]
    audit: AuditLog
    keys: VerifiedKeyCache = field(default_factory=VerifiedKeyCache)


def hub_context(request: Request) -> HubContext:
    context = request.app.state.hub
    assert isinstance(context, HubContext)
    return context


def db_session(request: Request) -> Iterator[Session]:
    """A session per request; routes open their own transaction (``session.begin()``)."""
    with hub_context(request).sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]
"""Route parameter type for the request's database session."""
