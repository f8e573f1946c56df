"""The normalised records artifact parsers yield, each with its provenance.

Why: an examiner must be able to go from any line of a report back to the exact row of the
exact database it came from; every record therefore carries the source file, table and row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Provenance:
    source_file: str
    """Path inside the extraction (POSIX, relative)."""
    table: str
    row_id: str


@dataclass(frozen=True)
class DeviceMessage:
    app: str
    conversation_id: str
    message_id: str
    sender: str
    """An address (phone number, JID, handle) or 'device-owner'."""
    counterpart: str
    """The other party's address in a one-to-one conversation (whoever sent the message)."""
    sent_at: datetime | None
    text: str
    from_owner: bool
    provenance: Provenance


@dataclass(frozen=True)
class DeviceCall:
    app: str
    number: str
    started_at: datetime | None
    duration_s: int
    direction: str
    """incoming, outgoing, missed, other."""
    provenance: Provenance


@dataclass(frozen=True)
class DeviceContact:
    app: str
    name: str | None
    numbers: tuple[str, ...]
    birthday: str | None
    """ISO date as stored, if the address book has one."""
    provenance: Provenance


@dataclass(frozen=True)
class NotProcessed:
    """A file or member triage could not use, and why (never silently dropped)."""

    path: str
    reason: str


OWNER = "device-owner"
