"""A tiny synthetic world, generated and keyed in well under a second, for the toolkit tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safehold.identity import CoalitionKey, generate_secret_file
from safehold.synth.config import make_config
from safehold.synth.world import generate_world


@dataclass(frozen=True)
class TinyWorld:
    root: Path
    key_path: Path
    key: CoalitionKey

    @property
    def members(self) -> Path:
        return self.root / "world" / "members"

    @property
    def truth(self) -> Path:
        return self.root / "world" / "truth"


def make_tiny_world(root: Path) -> TinyWorld:
    """600 people with a high offender rate, so that every justice member holds records and
    some registered people have platform accounts."""
    generate_world(
        make_config(people=600, seed=5, conversations=6, offender_rate=0.1, known_share=0.9),
        root / "world",
    )
    key_path = root / "coalition.key"
    return TinyWorld(root, key_path, generate_secret_file(key_path, version=1))
