"""Scoring the device's conversations that involve a likely child.

Why: the conversation model (``safehold.conversation``) reads grooming *patterns*; triage
groups the parsed messages into conversations, keeps those whose other party is likely a
child (``likely_child``), and hands them to the model with the child's age band on the
child's messages, so the model's warnings and evidence spans come back with provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from safehold.conversation.model import RiskModel
from safehold.conversation.types import ChatMessage, ConversationResult
from safehold.triage.likely_child import ChildEvidence, ContactBook, child_evidence
from safehold.triage.records import OWNER, DeviceContact, DeviceMessage

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ChildConversation:
    conversation_id: str
    app: str
    counterpart: str
    messages: int
    first_at: datetime | None
    last_at: datetime | None
    child: ChildEvidence
    result: ConversationResult
    evidence_rows: tuple[str, ...]
    """Provenance ('file#table/row') of the messages the model's evidence points at."""


def group(messages: Sequence[DeviceMessage]) -> dict[str, list[DeviceMessage]]:
    by_id: dict[str, list[DeviceMessage]] = {}
    for message in messages:
        by_id.setdefault(message.conversation_id, []).append(message)
    for items in by_id.values():
        items.sort(key=lambda m: (m.sent_at or _EPOCH, m.message_id))
    return by_id


def score_child_conversations(
    messages: Sequence[DeviceMessage],
    contacts: Sequence[DeviceContact],
    model: RiskModel,
) -> list[ChildConversation]:
    book = ContactBook(contacts)
    chosen: list[tuple[str, list[DeviceMessage], ChildEvidence]] = []
    for conversation_id, items in group(messages).items():
        evidence = child_evidence(items[0].counterpart, items, book)
        if evidence is not None:
            chosen.append((conversation_id, items, evidence))
    if not chosen:
        return []
    chat: list[ChatMessage] = []
    for conversation_id, items, evidence in chosen:
        for m in items:
            chat.append(
                ChatMessage(
                    conversation_id=conversation_id,
                    message_id=m.message_id,
                    sender_id=OWNER if m.from_owner else "other-party",
                    sent_at=m.sent_at or _EPOCH,
                    text=m.text,
                    sender_age_band=None if m.from_owner else evidence.age_band,
                )
            )
    results = {r.conversation_id: r for r in model.score_many(chat, per_message=False)}
    out = []
    for conversation_id, items, evidence in chosen:
        result = results[conversation_id]
        by_id = {m.message_id: m for m in items}
        rows = tuple(
            dict.fromkeys(
                f"{p.source_file}#{p.table}/{p.row_id}"
                for e in result.evidence
                if (found := by_id.get(e.message_id)) is not None
                for p in [found.provenance]
            )
        )
        times = [m.sent_at for m in items if m.sent_at is not None]
        out.append(
            ChildConversation(
                conversation_id,
                items[0].app,
                items[0].counterpart,
                len(items),
                min(times) if times else None,
                max(times) if times else None,
                evidence,
                result,
                rows,
            )
        )
    return out
