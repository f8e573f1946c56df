"""Synthetic conversations from ``safehold.synth`` as the labelled records
``safehold.conversation`` trains and evaluates on (that package may not import synth)."""

from __future__ import annotations

from collections.abc import Sequence

from safehold.conversation.types import ChatMessage, LabelledConversation
from safehold.synth.conversations import GeneratedConversations, generate_conversations

_MINOR_BANDS = frozenset({"under_13", "13_15", "16_17"})


def sender_band(age_band: str) -> str:
    """The scorer's coarse sender band: minors keep their band, everyone else is 'adult'."""
    return age_band if age_band in _MINOR_BANDS else "adult"


def labelled(generated: GeneratedConversations) -> list[LabelledConversation]:
    """Each generated conversation with its truth, messages in time order."""
    by_conversation: dict[str, list[tuple[ChatMessage, str]]] = {}
    bands: dict[tuple[str, str], str] = {}
    for conversation_id, ids, age_bands in generated.conversations.select(
        "conversation_id", "participant_ids", "participant_age_bands"
    ).iter_rows():
        for pid, band in zip(ids, age_bands, strict=True):
            bands[(conversation_id, pid)] = sender_band(band)
    for conversation_id, message_id, sender_id, sent_at, text, stage in (
        generated.messages.sort("conversation_id", "sent_at")
        .select("conversation_id", "message_id", "sender_id", "sent_at", "text", "stage")
        .iter_rows()
    ):
        message = ChatMessage(
            conversation_id=conversation_id,
            message_id=message_id,
            sender_id=sender_id,
            sent_at=sent_at,
            text=text,
            sender_age_band=bands.get((conversation_id, sender_id)),
        )
        by_conversation.setdefault(conversation_id, []).append((message, stage))
    out: list[LabelledConversation] = []
    for conversation_id, label, kind, family in generated.conversations.select(
        "conversation_id", "label", "kind", "phrasing_family"
    ).iter_rows():
        pairs = by_conversation.get(conversation_id, [])
        stages = tuple(stage for _, stage in pairs)
        first = next((i for i, s in enumerate(stages) if s != "none"), -1)
        out.append(
            LabelledConversation(
                conversation_id=conversation_id,
                messages=tuple(m for m, _ in pairs),
                grooming=label == "grooming",
                kind=kind,
                family=family,
                message_stages=stages,
                first_grooming_message=first,
            )
        )
    return out


def synthetic_conversations(
    n: int, seed: int, families: Sequence[str] | None = None
) -> list[LabelledConversation]:
    """``n`` labelled synthetic conversations (30% grooming-pattern, 20% hard negatives)."""
    return labelled(generate_conversations(n, seed=seed, families=families))
