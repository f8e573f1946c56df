"""Migrations and models never drift: an upgraded database has every table the models
declare, with nothing for autogenerate to change, and the migrations go down and up again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from safehold.store.database import make_engine
from safehold.store.migrate import current_revision, downgrade, head_revision, upgrade
from safehold.store.models import Base


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    try:
        yield made
    finally:
        made.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_on_an_empty_database_creates_every_table(engine: Engine) -> None:
    assert _tables(engine) == set()
    assert current_revision(engine) is None
    upgrade(engine)
    assert _tables(engine) == set(Base.metadata.tables)
    assert current_revision(engine) == head_revision()


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    upgrade(engine)
    assert _differences(engine) == []


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _tables(engine) == set(Base.metadata.tables)


def test_downgrade_to_base_and_back_up(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    assert _tables(engine) == set()
    assert current_revision(engine) is None
    upgrade(engine)
    assert _tables(engine) == set(Base.metadata.tables)
    assert _differences(engine) == []


def test_the_comparison_would_notice_drift(engine: Engine) -> None:
    """The drift check itself works: a column the migrations lack is reported."""
    from sqlalchemy import Column, Integer, MetaData, Table

    upgrade(engine)
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    Table("members", drifted, Column("extra_column", Integer), extend_existing=True)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, drifted)
    assert [d[0] for d in differences if isinstance(d, tuple)] == ["add_column"]
    assert "extra_column" in repr(differences)
