"""Messages in and results out as NDJSON (one JSON object per line).

Why here and not in the CLI: the klaxon and triage read the same format, and a bad line
must be reported the same way everywhere: which line, what is wrong, how to fix it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from safehold.conversation.types import SENDER_AGE_BANDS, ChatMessage, ConversationResult

REQUIRED_FIELDS: tuple[str, ...] = (
    "conversation_id",
    "message_id",
    "sender_id",
    "sent_at",
    "text",
)


class InputLineError(ValueError):
    """A line of a messages file that cannot be read; the message names line and fix."""


def _fail(source: str, number: int, problem: str) -> InputLineError:
    return InputLineError(f"{source}, line {number}: {problem}")


def parse_message(line: str, *, source: str = "input", number: int = 1) -> ChatMessage:
    """One NDJSON line as a ChatMessage, or InputLineError saying what to fix."""
    try:
        record: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _fail(
            source, number, f"not valid JSON ({exc.msg}); write one JSON object per line"
        ) from exc
    if not isinstance(record, dict):
        raise _fail(source, number, "expected a JSON object with " + ", ".join(REQUIRED_FIELDS))
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        raise _fail(source, number, f"missing field(s) {', '.join(missing)}; every line needs "
                    + ", ".join(REQUIRED_FIELDS))  # fmt: skip
    for name in ("conversation_id", "message_id", "sender_id", "sent_at"):
        value = record[name]
        if not isinstance(value, str) or not value:
            raise _fail(source, number, f"{name} must be a non-empty string, got {value!r}")
    if not isinstance(record["text"], str):
        raise _fail(source, number, f"text must be a string (may be empty), got {record['text']!r}")
    try:
        sent_at = datetime.fromisoformat(record["sent_at"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail(
            source, number,
            f"sent_at {record['sent_at']!r} is not an ISO 8601 time; write e.g. 2026-01-31T21:05:00Z",
        ) from exc  # fmt: skip
    band = record.get("sender_age_band")
    if band is not None and band not in SENDER_AGE_BANDS:
        raise _fail(
            source, number,
            f"sender_age_band {band!r} is not one of {', '.join(SENDER_AGE_BANDS)} (or leave it out)",
        )  # fmt: skip
    return ChatMessage(
        conversation_id=record["conversation_id"],
        message_id=record["message_id"],
        sender_id=record["sender_id"],
        sent_at=sent_at,
        text=record["text"],
        sender_age_band=band,
    )


def read_messages(lines: Iterable[str], *, source: str = "input") -> Iterator[ChatMessage]:
    """Messages from NDJSON lines (blank lines skipped)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield parse_message(line, source=source, number=number)


def result_record(result: ConversationResult) -> dict[str, Any]:
    """The output line for one conversation."""
    return {
        "conversation_id": result.conversation_id,
        "risk": round(result.risk, 6),
        "label": result.label,
        "messages_to_warning": result.messages_to_warning,
        "first_warning_message_id": result.first_warning_message_id,
        "stages_seen": list(result.stages_seen),
        "evidence": [
            {"message_id": e.message_id, "stage": e.stage, "start": e.start, "end": e.end}
            for e in result.evidence
        ],
        "notes": list(result.notes),
    }


def write_results(results: Iterable[ConversationResult], out: TextIO) -> int:
    """Write one line per conversation; returns how many."""
    count = 0
    for result in results:
        out.write(json.dumps(result_record(result), ensure_ascii=False) + "\n")
        count += 1
    return count
