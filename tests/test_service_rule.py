"""The service rule in tests/conftest.py: a missing service skips loudly, or fails under
SAFEHOLD_REQUIRE_SERVICES=1 (as CI sets)."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
TEST = """
import conftest

conftest.SERVICES["nothing"] = 1  # nothing listens on port 1


def test_needs_a_service(require_service):
    require_service("nothing")
"""


def _run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, required: str
) -> pytest.RunResult:
    monkeypatch.setenv("SAFEHOLD_REQUIRE_SERVICES", required)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))  # conftest imports tests.*
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_service=TEST)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider")


def test_missing_service_skips_loudly(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, "0")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*1 SERVICE TESTS SKIPPED*", "*test_needs_a_service: nothing*"])


def test_missing_service_fails_when_required(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, "1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*SAFEHOLD_REQUIRE_SERVICES=1*"])
