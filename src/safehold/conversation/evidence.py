"""Evidence for a warning: which messages, which stage, which characters.

Why: a reviewer must see why without reading the whole conversation. Evidence is what
made the warning: the flagged messages up to and including the message that raised it
(batch and incremental alike; the incremental scorer cannot know later messages, and
building it for every later message cost more than the rest of batch scoring). For each
we give the lexicon phrases it contains (exact character spans into the original text); a
flagged message with no lexicon phrase gets the word or word pair whose weight pushed it
most towards its most likely stage. The conversation's risk and stages seen still cover
every message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from safehold.conversation.features import TOKEN_PATTERN
from safehold.conversation.lexicon import find_phrases
from safehold.conversation.types import STAGES, ChatMessage, Evidence

if TYPE_CHECKING:
    from safehold.conversation.model import RiskModel

MAX_EVIDENCE = 30
"""At most this many evidence items per conversation (the strongest messages first)."""

_TOKEN = re.compile(TOKEN_PATTERN)


def top_ngram(model: RiskModel, text: str, stage_index: int) -> tuple[int, int] | None:
    """Span of the word or word pair in ``text`` that most favours stage ``stage_index``
    (0-based into STAGES) over 'no stage', or None if nothing favours it."""
    tokens = [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not tokens:
        return None
    grams = [(t, s, e) for t, s, e in tokens]
    grams += [(f"{a[0]} {b[0]}", a[1], b[2]) for a, b in itertools.pairwise(tokens)]
    columns = model.vectoriser.word_columns([g for g, _, _ in grams])
    weights = model.message_weights
    gain = weights[columns, stage_index + 1] - weights[columns, 0]
    best = int(np.argmax(gain))
    if gain[best] <= 0.0:
        return None
    return grams[best][1], grams[best][2]


def message_evidence(
    model: RiskModel, message: ChatMessage, text: str, probs: npt.NDArray[np.float64]
) -> list[Evidence]:
    """Evidence items for one flagged message (``text`` is what the model read, a prefix
    of the original, so spans hold for the original text too)."""
    found = [
        Evidence(message.message_id, stage, start, end) for stage, start, end in find_phrases(text)
    ]
    if found:
        return found
    stage_index = int(np.argmax(probs[1:]))
    span = top_ngram(model, text, stage_index)
    if span is None:
        return []
    return [Evidence(message.message_id, STAGES[stage_index], span[0], span[1])]


def collect_evidence(
    model: RiskModel,
    messages: Sequence[ChatMessage],
    texts: Sequence[str],
    probs: npt.NDArray[np.float64],
    flag: npt.NDArray[np.bool_],
) -> tuple[Evidence, ...]:
    """Evidence from a conversation's flagged messages, strongest first, in a stable
    order (by message position) within the kept set."""
    flagged = np.flatnonzero(flag)
    if flagged.size == 0:
        return ()
    strength = 1.0 - probs[flagged, 0]
    keep = flagged[np.argsort(-strength, kind="stable")]
    out: list[Evidence] = []
    for i in sorted(keep.tolist()):
        out.extend(message_evidence(model, messages[i], texts[i], probs[i]))
    if len(out) > MAX_EVIDENCE:
        strongest = {messages[i].message_id for i in keep.tolist()[:MAX_EVIDENCE]}
        out = [e for e in out if e.message_id in strongest][:MAX_EVIDENCE]
    return tuple(out)
