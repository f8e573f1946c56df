"""The support-message templates a reviewer can offer a child, from the packaged YAML."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

TEMPLATES_FILE = Path(__file__).with_name("support_messages.yaml")


@dataclass(frozen=True)
class SupportTemplate:
    template_id: str
    title: str
    text: str


@cache
def support_templates(path: Path = TEMPLATES_FILE) -> tuple[SupportTemplate, ...]:
    """The templates, in file order; a malformed file names the entry at fault."""
    data = yaml.safe_load(path.read_text())
    entries = data.get("templates") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected a non-empty 'templates' list")
    found: list[SupportTemplate] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry[k].strip() for k in ("id", "title", "text")
        ):
            raise ValueError(f"{path}: templates[{index}] needs text fields id, title and text")
        found.append(SupportTemplate(entry["id"], entry["title"], entry["text"]))
    ids = [t.template_id for t in found]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: template ids must be unique")
    return tuple(found)
