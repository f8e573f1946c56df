"""Hash-set category codes mapped through configuration, never hard-coded in readers.

Why: the same raw ``Category`` number means different things in the US Project VIC profile
and in the UK (Sentencing Council categories A, B, C); which table applies depends on the
data-model version and regional profile named in the file. Readers keep the raw code and
add the mapped category and a severity rank used for scoring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MappedCategory:
    raw: str
    category: str
    severity: int
    profile: str


class CategoryMap:
    def __init__(self, config: dict[str, Any]) -> None:
        try:
            self._profiles: dict[str, dict[str, dict[str, Any]]] = config["profiles"]
            self._versions: dict[str, dict[str, str]] = config["versions"]
        except KeyError as missing:
            raise ValueError(f"category configuration needs a {missing} section") from None

    @classmethod
    def default(cls) -> CategoryMap:
        text = resources.files("safehold.hashing").joinpath("categories.json").read_text()
        return cls(json.loads(text))

    @classmethod
    def from_file(cls, path: Path) -> CategoryMap:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @property
    def profiles(self) -> list[str]:
        return sorted(self._profiles)

    def profile_for(self, version: str, region: str) -> str:
        major = version.split(".")[0]
        regions = self._versions.get(major)
        if regions is None:
            raise ValueError(
                f"no category table for data-model version {version!r}; "
                f"configured versions: {sorted(self._versions)}"
            )
        profile = regions.get(region) or regions.get("Default")
        if profile is None:
            raise ValueError(f"no category table for region {region!r} in version {version!r}")
        return profile

    def map(self, raw: object, *, profile: str) -> MappedCategory:
        code = "" if raw is None else str(raw).strip()
        entry = self._profiles.get(profile, {}).get(code)
        if entry is None:
            return MappedCategory(code, "unmapped", 0, profile)
        return MappedCategory(code, str(entry["category"]), int(entry["severity"]), profile)
