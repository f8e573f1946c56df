"""Incremental scoring: one conversation, one message at a time.

Why: the klaxon sees a live stream and must act on the message that just arrived without
re-reading the conversation. The scorer keeps only running sums and maxima (the context
state), the k-of-n window and the evidence of the flagged messages up to the first
warning; it gives the numbers the batch path gives for the same messages in the same
order (equal up to float rounding: the row is built in plain Python here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from safehold.conversation.batch import (
    KNOWN_BANDS,
    MINOR_BANDS,
    Floats,
    sigmoid,
    softmax,
    stages_from_max,
    truncation_note,
)
from safehold.conversation.context import ContextState, MessageFacts, is_night
from safehold.conversation.evidence import MAX_EVIDENCE, message_evidence
from safehold.conversation.features import clean_text, truncate
from safehold.conversation.types import (
    STAGES,
    ChatMessage,
    ConversationResult,
    Evidence,
    MessageScore,
)

if TYPE_CHECKING:
    from safehold.conversation.model import RiskModel


class ConversationScorer:
    """``update(message)`` after each message (in time order) -> ``MessageScore``;
    ``result()`` at any point -> ``ConversationResult``."""

    def __init__(self, model: RiskModel) -> None:
        self.model = model
        self._state = ContextState(flag_threshold=model.flag_threshold)
        self._window = model.policy.window()
        self._conversation_id: str | None = None
        self._first_time: float | None = None
        self._senders: set[str] = set()
        self._scores: list[MessageScore] = []
        self._evidence: list[tuple[float, list[Evidence]]] = []
        self._notes: list[str] = []
        self._peak = 0.0
        self._warned_at: int | None = None
        self._warned_id: str | None = None
        self._stage_max = np.zeros(len(STAGES))

    def update(self, message: ChatMessage) -> MessageScore:
        if self._conversation_id is None:
            self._conversation_id = message.conversation_id
        elif message.conversation_id != self._conversation_id:
            raise ValueError(
                f"this scorer reads conversation {self._conversation_id!r}, got a message of "
                f"{message.conversation_id!r}: use one scorer per conversation"
            )
        text, cut = truncate(clean_text(message.text))
        if cut:
            self._notes.append(truncation_note(message.message_id, len(message.text)))
        band = message.sender_age_band
        probs, lexicon = self._read(text, band in MINOR_BANDS)
        t = message.sent_at.timestamp()
        if self._first_time is None:
            self._first_time = t
        facts = MessageFacts(
            eligible=band not in MINOR_BANDS,
            adult=band == "adult",
            minor=band in MINOR_BANDS,
            known=band in KNOWN_BANDS,
            night=is_night(message.sent_at.hour),
            new_sender=message.sender_id not in self._senders,
            hours=max((t - self._first_time) / 3600.0, 0.0),
        )
        self._senders.add(message.sender_id)
        row, flag = self._state.update(probs, lexicon, facts)
        risk = float(
            sigmoid(np.array([row @ self.model.context_weights]) + self.model.context_intercept)[0]
        )
        self._peak = max(self._peak, risk)
        self._stage_max = row[: len(STAGES)]
        warn = self._window.update(flag, risk, self.model.threshold)
        if flag and self._warned_at is None:  # evidence: flagged messages up to the warning
            self._evidence.append(
                (1.0 - float(probs[0]), message_evidence(self.model, message, text, probs))
            )
        if warn and self._warned_at is None:
            self._warned_at = len(self._scores) + 1
            self._warned_id = message.message_id
        score = MessageScore(message.message_id, risk, stages_from_max(self._stage_max))
        self._scores.append(score)
        return score

    def _read(self, text: str, minor: bool) -> tuple[Floats, Floats]:
        """Stage probabilities and lexicon hits of one message; a known minor's message is
        not read (see ``batch.read_texts``)."""
        lexicon = np.zeros(len(STAGES))
        if minor:
            probs = np.zeros(len(STAGES) + 1)
            probs[0] = 1.0
            return probs, lexicon
        columns, values = self.model.vectoriser.sparse_row(text)
        logits = values @ self.model.message_weights[columns] + self.model.message_intercept
        lexicon_start = self.model.text.dimension - len(STAGES)
        is_lexicon = columns >= lexicon_start
        lexicon[columns[is_lexicon] - lexicon_start] = 1.0
        probs_out: Floats = softmax(logits[None, :])[0]
        return probs_out, lexicon

    def result(self) -> ConversationResult:
        if self._conversation_id is None:
            raise ValueError("no messages scored yet: call update(message) first")
        warned = self._warned_at is not None
        evidence: list[Evidence] = []
        if warned:
            for _, items in self._evidence:
                evidence.extend(items)
            if len(evidence) > MAX_EVIDENCE:
                ranked = sorted(range(len(self._evidence)), key=lambda i: -self._evidence[i][0])[
                    :MAX_EVIDENCE
                ]
                keep = {e.message_id for i in ranked for e in self._evidence[i][1]}
                evidence = [e for e in evidence if e.message_id in keep][:MAX_EVIDENCE]
        return ConversationResult(
            conversation_id=self._conversation_id,
            risk=self._peak,
            label="risk" if warned else "no_risk",
            messages_to_warning=self._warned_at,
            first_warning_message_id=self._warned_id,
            evidence=tuple(evidence),
            stages_seen=stages_from_max(self._stage_max),
            per_message=tuple(self._scores),
            notes=tuple(self._notes),
        )
