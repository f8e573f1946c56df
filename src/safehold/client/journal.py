"""The submission journal: one JSON line per batch the hub acknowledged, kept next to the
batch file (``<file>.submitted.jsonl``), so that a rerun skips what was already stored.

Each line is flushed and synced before the next batch is sent. A line cut short by a crash
is ignored (that batch is simply sent again and answered as a replay). Lines name the hub,
so submitting the same file to another hub starts from the beginning."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

JOURNAL_SUFFIX = ".submitted.jsonl"


def journal_path(source: Path) -> Path:
    """``<file>.submitted.jsonl`` beside a batch file or a prepared folder."""
    return source.with_name(source.name + JOURNAL_SUFFIX)


class Journal:
    def __init__(self, path: Path, hub: str) -> None:
        self.path = path
        self.hub = hub
        self.acknowledged: set[str] = set()
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash: that batch is sent again
                if isinstance(entry, dict) and entry.get("hub") == self.hub:
                    batch_id = entry.get("batch_id")
                    if isinstance(batch_id, str):
                        self.acknowledged.add(batch_id)

    def __contains__(self, batch_id: object) -> bool:
        return batch_id in self.acknowledged

    def record(self, batch_id: str, answer: dict[str, Any]) -> None:
        """Append one acknowledged batch, durably, before anything else is sent."""
        entry = {
            "batch_id": batch_id,
            "hub": self.hub,
            "accepted": answer.get("accepted"),
            "replayed": bool(answer.get("replayed", False)),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as handle:
            if handle.tell() > 0 and not self._ends_with_newline():
                line = "\n" + line
            handle.write(line.encode())
            handle.flush()
            os.fsync(handle.fileno())
        self.acknowledged.add(batch_id)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
