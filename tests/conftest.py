"""Shared test fixtures, and the rule for tests that need a local service.

A test that needs PostgreSQL, NATS or Redis asks for it through ``require_service``. On a
machine without the service it is skipped, and the run ends with a loud line saying so;
with SAFEHOLD_REQUIRE_SERVICES=1 (as in CI) a missing service fails the test instead."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings

from safehold.store import credentials
from tests.databases import postgres_database, sqlite_url

# Shared machines are slow and noisy: no per-example deadline. Under CI the examples are
# derandomised so that a landing never depends on luck; locally they keep exploring.
settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

pytest_plugins = ["pytester"]

# Argon2 is slow on purpose; tests issue hundreds of keys, so they hash with the cheapest
# parameters the library allows. The code path (hash, verify, cache) is the production one.
credentials._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

SERVICES = {"postgresql": 5432, "nats": 4222, "redis": 6379}
NOT_LISTENING = "is not listening on 127.0.0.1"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def require_service() -> Callable[[str], None]:
    def need(name: str) -> None:
        if _listening(SERVICES[name]):
            return
        message = f"{name} {NOT_LISTENING}:{SERVICES[name]}"
        if os.environ.get("SAFEHOLD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} and SAFEHOLD_REQUIRE_SERVICES=1")
        pytest.skip(message)

    return need


def skipped_because(terminalreporter: pytest.TerminalReporter, words: str) -> list[str]:
    """The tests skipped with ``words`` in the reason, read from the run's reports (not from
    a list kept in this process, which pytest-xdist's workers would keep to themselves)."""
    found = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        if words in reason:
            found.append(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")
    return found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = skipped_because(terminalreporter, NOT_LISTENING)
    if skipped:
        terminalreporter.write_sep(
            "!", f"{len(skipped)} SERVICE TESTS SKIPPED: services not running", red=True, bold=True
        )
        for line in skipped:
            terminalreporter.write_line(f"  {line}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    require_service: Callable[[str], None],
) -> Iterator[str]:
    """Each test that asks for a database runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    require_service("postgresql")
    with postgres_database() as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: pytest-xdist (``make test``) hands out whole files in this order, so
    the long files start while short ones fill the gaps, instead of one long file running
    alone at the end."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: order within a file kept
