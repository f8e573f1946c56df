"""Batch scoring: many conversations at once, vectorised end to end.

Why: a platform stream and a seized phone both bring hundreds of thousands of messages.
One numpy hashing pass over every text (a known minor's messages are not read: the
context ignores their stages), one sparse matrix product for the stage probabilities,
segmented cumulative numpy operations for the context, and Python only for building the
result records (and for evidence, which only warned conversations need, and only up to
their first warning).
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


def read_texts(
    model: RiskModel, texts: Sequence[str], minor: npt.NDArray[np.bool_]
) -> tuple[Floats, Floats]:
    """Stage probabilities and lexicon hits per message. A known minor's message is not
    read at all: the context weighs only the other side's stages (a child is never taken
    for the groomer), so its row is 'no stage' and no lexicon hit, as in the scorer."""
    n = len(texts)
    probs = np.zeros((n, len(STAGES) + 1), dtype=np.float64)
    probs[:, 0] = 1.0
    lexicon = np.zeros((n, len(STAGES)), dtype=np.float64)
    read = np.flatnonzero(~minor)
    if read.size == n:
        matrix, lexicon = model.vectoriser.transform_with_hits(texts)
        return message_probabilities(model, matrix), lexicon
    if read.size:
        matrix, hits = model.vectoriser.transform_with_hits([texts[i] for i in read.tolist()])
        probs[read] = message_probabilities(model, matrix)
        lexicon[read] = hits
    return probs, lexicon


def truncation_note(message_id: str, length: int) -> str:
    return f"message {message_id} has {length} characters; only the first {MAX_CHARS} were scored"


STAGE_SETS: tuple[tuple[str, ...], ...] = tuple(
    tuple(s for j, s in enumerate(STAGES) if code >> j & 1) for code in range(1 << len(STAGES))
)
"""The stages named by each 6-bit code (bit j: STAGES[j] seen)."""


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
    bands = [m.sender_age_band for m in ordered]
    minor = np.fromiter((b in MINOR_BANDS for b in bands), dtype=np.bool_, count=n)
    probs, lexicon = read_texts(model, texts, minor)
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
    peak = np.maximum.reduceat(risk, starts).tolist()
    notes_of: dict[int, list[str]] = {}
    for i in np.flatnonzero(np.fromiter((len(m.text) for m in ordered), np.int64, n) > MAX_CHARS):
        message = ordered[int(i)]
        notes_of.setdefault(int(group[i]), []).append(
            truncation_note(message.message_id, len(message.text))
        )
    if per_message:  # which stages are seen, as a 6-bit code per message -> shared tuples
        seen_code = ((stage_max >= STAGE_SEEN) @ (1 << np.arange(len(STAGES)))).tolist()
        ids = [m.message_id for m in ordered]
        risk_list = risk.tolist()
    results: list[ConversationResult] = []
    for g, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        fw = int(first_warn[g])
        warned = fw < hi
        # Evidence is what made the warning: flagged messages up to the first warning.
        evidence = (
            collect_evidence(
                model,
                ordered[lo : fw + 1],
                texts[lo : fw + 1],
                probs[lo : fw + 1],
                flag[lo : fw + 1],
            )
            if warned
            else ()
        )
        scores: tuple[MessageScore, ...] = ()
        if per_message:
            scores = tuple(
                map(
                    MessageScore,
                    ids[lo:hi],
                    risk_list[lo:hi],
                    [STAGE_SETS[c] for c in seen_code[lo:hi]],
                )
            )
        results.append(
            ConversationResult(
                conversation_id=ordered[lo].conversation_id,
                risk=peak[g],
                label="risk" if warned else "no_risk",
                messages_to_warning=fw - lo + 1 if warned else None,
                first_warning_message_id=ordered[fw].message_id if warned else None,
                evidence=evidence,
                stages_seen=stages_from_max(stage_max[hi - 1]),
                per_message=scores,
                notes=tuple(notes_of.get(g, ())),
            )
        )
    return results
