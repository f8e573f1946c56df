"""How a released model's version is named, in one place for everyone who names it: the
member scoring with it (``member score``), the klaxon carrying it in alerts, and the hub's
monitoring tying it to the model's pre-registration.

The version is the first 12 hex digits of the SHA-256 of the artifact's ``MANIFEST.sha256``,
so that a change to any file of the artifact gives another version."""

from __future__ import annotations

import hashlib
from pathlib import Path

MANIFEST = "MANIFEST.sha256"


def model_version(folder: Path) -> str:
    return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()[:12]
