from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from safehold.exchange import FEATURE_NAMES
from safehold.synth.config import make_config
from safehold.synth.world import generate_world


def _world(tmp_path_factory: pytest.TempPathFactory, name: str, **config: Any) -> Path:
    out = tmp_path_factory.mktemp("worlds") / name
    generate_world(make_config(conversations=0, contacts_per_account=0.0, **config), out)
    return out


@pytest.fixture(scope="session")
def strong_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A world where offending leaves a strong trace and being known is unbiased."""
    return _world(tmp_path_factory, "strong", people=20_000, effect=1.2, selection_bias=0.0, seed=3)


@pytest.fixture(scope="session")
def null_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _world(tmp_path_factory, "null", people=20_000, effect=0.0, seed=4)


def write_prereg(folder: Path, **overrides: Any) -> Path:
    """A quick pre-registration for tests (few permutations and bootstrap draws)."""
    fields: dict[str, Any] = {
        "title": "Test study",
        "question": "Does behaviour differ?",
        "outcome": "convicted_offender",
        "features": list(FEATURE_NAMES),
        "prevalence": 0.005,
        "minimum_ppv": 0.2,
        "control_ratio": 4,
        "folds": 3,
        "permutations": 39,
        "bootstrap": 50,
        "minimum_group_size": 10,
    }
    fields.update(overrides)
    path = folder / "prereg.yaml"
    path.write_text(yaml.safe_dump(fields))
    return path


@pytest.fixture(scope="session")
def linkage_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small world with many known offenders (so many justice records to link), a strong
    planted effect and unbiased knowing."""
    return _world(
        tmp_path_factory, "linkage", people=3_000, effect=1.2, selection_bias=0.0,
        offender_rate=0.05, known_share=0.9, seed=11,
    )  # fmt: skip


@pytest.fixture(scope="session")
def default_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default world (planted effect 0.3, selection bias 0.5), with 100,000 people so that
    a study has about 400 case people."""
    return _world(tmp_path_factory, "default", people=100_000, seed=21)


@pytest.fixture(scope="session")
def biased_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default planted effect with strong selection bias (``--selection-bias 1``)."""
    return _world(tmp_path_factory, "biased", people=50_000, selection_bias=1.0, seed=22)
