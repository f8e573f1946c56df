"""The released red-flag models the coalition has in use (``SAFEHOLD_MODEL_DIR``), read for
what monitoring compares against: the model's version and its pre-registered minimum PPV.

A released model folder (written by ``safehold research run``; see research.artifact) holds
``spec.json``, ``report.json`` (the study summary, with the pre-registration under
``prereg``) and ``MANIFEST.sha256``. The version is the first 12 hex digits of the
manifest's SHA-256, so that any change to any file gives another version. The hub reads only
these JSON files: it does not load the model itself."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safehold.exchange.model_version import model_version


class ModelFolderError(ValueError):
    """A configured model folder that cannot be read; the message names the file and fix."""


@dataclass(frozen=True)
class ModelInUse:
    folder: Path
    version: str
    title: str
    minimum_ppv: float
    prereg_sha256: str


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelFolderError(
            f"{path} not found: SAFEHOLD_MODEL_DIR must name the model/ folder of a study "
            "whose release gate released a model"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFolderError(f"{path} cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelFolderError(f"{path} does not hold a JSON object")
    return data


def read_model(folder: Path) -> ModelInUse:
    """The model in ``folder``, refused if a file differs from its manifest."""
    manifest = folder / "MANIFEST.sha256"
    if not manifest.is_file():
        raise ModelFolderError(
            f"{folder} holds no MANIFEST.sha256: SAFEHOLD_MODEL_DIR must name a released "
            "model folder (the model/ folder of a study)"
        )
    for line in manifest.read_text().splitlines():
        digest, _, name = line.partition("  ")
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ModelFolderError(
                f"{path} does not match its SHA-256 in {manifest}: the model was altered or "
                "is incomplete; fetch the released model again"
            )
    report = _json(folder / "report.json")
    try:
        minimum = float(report["prereg"]["minimum_ppv"])
        title = str(report.get("title", folder.name))
        sha = str(report["prereg_sha256"])
    except (KeyError, TypeError, ValueError):
        raise ModelFolderError(
            f"{folder / 'report.json'} has no prereg.minimum_ppv and prereg_sha256: not a "
            "study report of this Safehold"
        ) from None
    return ModelInUse(
        folder=folder,
        version=model_version(folder),
        title=title,
        minimum_ppv=minimum,
        prereg_sha256=sha,
    )


def models_in_use(folders: tuple[Path, ...]) -> tuple[list[ModelInUse], list[str]]:
    """The readable models of ``folders`` and, for each that is not, why."""
    found: list[ModelInUse] = []
    problems: list[str] = []
    for folder in folders:
        try:
            found.append(read_model(folder))
        except ModelFolderError as exc:
            problems.append(str(exc))
    return found, problems
