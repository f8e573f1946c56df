"""Where the hub's database is and how to connect: SQLite under the data directory by
default, PostgreSQL (or any SQLAlchemy URL) through ``SAFEHOLD_DATABASE_URL``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATA_DIR = Path("safehold-data")


def data_dir() -> Path:
    """``SAFEHOLD_DATA_DIR``, or ``./safehold-data``."""
    return Path(os.environ.get("SAFEHOLD_DATA_DIR") or DEFAULT_DATA_DIR)


def database_url(directory: Path | None = None) -> str:
    """``SAFEHOLD_DATABASE_URL`` if set, else a SQLite file ``hub.db`` in the data directory."""
    url = os.environ.get("SAFEHOLD_DATABASE_URL")
    if url:
        return normalise_url(url)
    return f"sqlite:///{(directory or data_dir()) / 'hub.db'}"


def normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg 3, the driver we install."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL as it may be printed: never with its password."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings the hub relies on for each backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """WAL (readers do not block the writer), foreign keys on, and BEGIN IMMEDIATE so that a
    transaction that will write takes the write lock at its start; without it two
    transactions that read and then write (the audit chain does) can fail with 'database is
    locked' instead of waiting their turn."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
