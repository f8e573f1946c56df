"""shared/ARCHITECTURE.md's import rules and package docstrings, checked on every change."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "safehold"

# What each package may import of ours (ARCHITECTURE.md, "Packages").
ALLOWED: dict[str, set[str]] = {
    "exchange": set(),
    "identity": {"exchange"},
    "synth": {"exchange", "identity"},
    "store": {"exchange"},
    "hub": {"exchange", "identity", "store", "klaxon", "privacy"},
    "client": {"exchange"},
    "conversation": {"exchange"},
    "hashing": {"exchange"},
    "triage": {"exchange", "identity", "hashing", "conversation"},
    "privacy": {"exchange"},
    "research": {"exchange", "identity", "privacy"},
    "cli": {
        "exchange",
        "identity",
        "synth",
        "store",
        "hub",
        "client",
        "conversation",
        "hashing",
        "triage",
        "privacy",
        "research",
        "klaxon",
    },
    "klaxon": {"exchange", "conversation"},
}


def _packages() -> list[str]:
    return sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists())


def _imports_of(package: str) -> dict[str, set[str]]:
    """Sub-package of safehold imported -> the files that import it."""
    found: dict[str, set[str]] = {}
    for path in (SRC / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "safehold" and len(parts) > 1 and parts[1] != package:
                    found.setdefault(parts[1], set()).add(path.name)
    return found


def test_every_package_is_in_the_rules() -> None:
    assert set(_packages()) == set(ALLOWED), "add the new package to ALLOWED and ARCHITECTURE.md"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    imported = _imports_of(package)
    # The package root only exposes the version; importing it is always fine.
    forbidden = {
        k: v for k, v in imported.items() if k not in ALLOWED[package] and k != "__version__"
    }
    assert not forbidden, f"safehold.{package} may not import {forbidden}"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_docstring_says_what_it_owns_and_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text())) or ""
    assert len(doc) > 120, f"safehold.{package} needs a one-paragraph module docstring"
    assert "import" in doc, f"safehold.{package}'s docstring must say what it may import"


def test_nothing_imports_cli() -> None:
    for package in _packages():
        if package != "cli":
            assert "cli" not in _imports_of(package), package
