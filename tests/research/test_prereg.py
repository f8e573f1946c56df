from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from safehold.research.errors import StudyError
from safehold.research.prereg import Outcome, load_prereg
from tests.research.conftest import write_prereg

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_load_and_their_hash_is_the_files() -> None:
    for name, outcome in (
        ("prereg-offender-study.yaml", Outcome.CONVICTED_OFFENDER),
        ("prereg-vulnerable-children.yaml", Outcome.VULNERABLE_CHILD),
    ):
        prereg, sha = load_prereg(EXAMPLES / name)
        assert prereg.outcome is outcome
        assert sha == hashlib.sha256((EXAMPLES / name).read_bytes()).hexdigest()


def test_missing_prereg_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match=r"nope\.yaml not found.*needs one"):
        load_prereg(tmp_path / "nope.yaml")


def test_feature_outside_the_dictionary_is_named(tmp_path: Path) -> None:
    path = write_prereg(tmp_path, features=["messages_sent", "shoe_size"])
    with pytest.raises(StudyError, match=r"features: .*shoe_size"):
        load_prereg(path)


def test_bad_yaml_and_wrong_types_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("title: [unclosed")
    with pytest.raises(StudyError, match="not valid YAML"):
        load_prereg(path)
    path = write_prereg(tmp_path, minimum_ppv=1.5)
    with pytest.raises(StudyError, match="minimum_ppv"):
        load_prereg(path)
