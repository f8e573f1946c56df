"""Batch scoring: many conversations at once, vectorised end to end.

Why: a platform stream and a seized phone both bring hundreds of thousands of messages.
One hashing call over every text, one sparse matrix product for the stage probabilities,
segmented cumulative numpy operations for the context, and Python only for building the
result records (and for evidence, which only warned conversations need).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from safehold.conversation.context import STAGE_SEEN, batch_context, is_night
from safehold.conversation.evidence import collect_evidence
from safehold.conversation.features import MAX_CHARS, clean_text
from safehold.conversation.types import (
    STAGES,
    ChatMessage,
    ConversationResult,
    MessageScore,
)

if TYPE_CHECKING:
    from safehold.conversation.model import RiskModel

Floats = npt.NDArray[np.float64]

MINOR_BANDS = frozenset({"under_13", "13_15", "16_17"})
KNOWN_BANDS = frozenset({"adult", *MINOR_BANDS})


def softmax(logits: Floats) -> Floats:
    shifted: Floats = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def sigmoid(x: Floats) -> Floats:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0)))


def message_probabilities(model: RiskModel, features: sp.csr_matrix) -> Floats:
    """Per message: probability of 'none' and of each stage."""
    logits: Floats = np.asarray(features @ model.message_weights, dtype=np.float64)
    return softmax(logits + model.message_intercept)


def truncation_note(message_id: str, length: int) -> str:
    return f"message {message_id} has {length} characters; only the first {MAX_CHARS} were scored"


def stages_from_max(stage_max: Floats) -> tuple[str, ...]:
    return tuple(s for s, p in zip(STAGES, stage_max, strict=True) if p >= STAGE_SEEN)


def score_batch(
    model: RiskModel, messages: Sequence[ChatMessage], *, per_message: bool = True
) -> list[ConversationResult]:
    n = len(messages)
    if n == 0:
        return []
    conversation_ids = [m.conversation_id for m in messages]
    _, first_index, inverse = np.unique(
        np.asarray(conversation_ids, dtype=object), return_index=True, return_inverse=True
    )
    # Conversations numbered by first appearance; rows sorted by conversation, then time.
    appearance = np.argsort(np.argsort(first_index, kind="stable"), kind="stable")
    group_of = appearance[inverse.ravel()].astype(np.int64)
    times = np.fromiter((m.sent_at.timestamp() for m in messages), dtype=np.float64, count=n)
    order = np.lexsort((np.arange(n), times, group_of))
    ordered = [messages[i] for i in order]
    group = group_of[order]
    times = times[order]

    texts = [m.text[:MAX_CHARS] for m in ordered]
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: replace, one char for one
        texts = [clean_text(t) for t in texts]
    matrix = model.vectoriser.transform(texts)
    probs = message_probabilities(model, matrix)
    lexicon_start = matrix.shape[1] - len(STAGES)
    lexicon = (matrix[:, lexicon_start:].toarray() > 0).astype(np.float64)

    bands = [m.sender_age_band for m in ordered]
    minor = np.fromiter((b in MINOR_BANDS for b in bands), dtype=np.bool_, count=n)
    adult = np.fromiter((b == "adult" for b in bands), dtype=np.bool_, count=n)
    known = minor | adult
    night = np.fromiter((is_night(m.sent_at.hour) for m in ordered), dtype=np.bool_, count=n)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    start = np.repeat(starts, np.diff(np.r_[starts, n]))
    hours = np.maximum((times - times[start]) / 3600.0, 0.0)
    sender_keys = np.asarray(
        [f"{g}\x00{m.sender_id}" for g, m in zip(group.tolist(), ordered, strict=True)],
        dtype=object,
    )
    _, first_sender = np.unique(sender_keys, return_index=True)
    new_sender = np.zeros(n, dtype=np.bool_)
    new_sender[first_sender] = True

    context, flag = batch_context(
        group, probs, lexicon, ~minor, adult, minor, known, night, new_sender, hours,
        model.flag_threshold,
    )  # fmt: skip
    risk = sigmoid(context @ model.context_weights + model.context_intercept)
    warn = model.policy.batch(start, flag, risk, model.threshold)

    ends = np.r_[starts[1:], n]
    warn_index = np.where(warn, np.arange(n), n)
    first_warn = np.minimum.reduceat(warn_index, starts)
    stage_max = context[:, : len(STAGES)]
    lengths = [len(m.text) for m in ordered]
    results: list[ConversationResult] = []
    risk_list = risk.tolist()
    for g, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        fw = int(first_warn[g])
        warned = fw < hi
        notes = tuple(
            truncation_note(ordered[i].message_id, lengths[i])
            for i in range(lo, hi)
            if lengths[i] > MAX_CHARS
        )
        evidence = (
            collect_evidence(model, ordered[lo:hi], texts[lo:hi], probs[lo:hi], flag[lo:hi])
            if warned
            else ()
        )
        scores: tuple[MessageScore, ...] = ()
        if per_message:
            seen_rows = stage_max[lo:hi] >= STAGE_SEEN
            scores = tuple(
                MessageScore(
                    message_id=ordered[i].message_id,
                    risk=risk_list[i],
                    stages=tuple(s for s, on in zip(STAGES, seen_rows[i - lo], strict=True) if on),
                )
                for i in range(lo, hi)
            )
        results.append(
            ConversationResult(
                conversation_id=ordered[lo].conversation_id,
                risk=float(risk[lo:hi].max()),
                label="risk" if warned else "no_risk",
                messages_to_warning=fw - lo + 1 if warned else None,
                first_warning_message_id=ordered[fw].message_id if warned else None,
                evidence=evidence,
                stages_seen=stages_from_max(stage_max[hi - 1]),
                per_message=scores,
                notes=notes,
            )
        )
    return results
