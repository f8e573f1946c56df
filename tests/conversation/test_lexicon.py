"""The stage lexicon finds generic stage phrases at exact character spans."""

from __future__ import annotations

import re

import numpy as np
import pytest

from safehold.conversation.lexicon import (
    _COMBINED,
    _GROUP_STAGE,
    STAGE_PATTERNS,
    expand_leading,
    find_phrases,
    stage_hits,
)
from safehold.conversation.types import STAGES, LabelledConversation


@pytest.mark.parametrize(
    ("text", "stage", "phrase"),
    [
        ("Does your mum check your phone?", "risk_assessment", "Does your mum check"),
        ("r u home alone 2nite?", "risk_assessment", "r u home alone"),
        ("ok so this is our secret", "exclusivity_secrecy", "our secret"),
        ("pls dont tell ur dad", "exclusivity_secrecy", "pls dont tell"),
        ("I'll buy you the battle pass", "gifts", "I'll buy you"),
        ("just add me on ChatNest", "moving_platform", "add me on"),
        ("lets chat on pingpal instead", "moving_platform", "chat on pingpal"),
        ("We should meet up at the weekend", "meeting", "We should meet"),
        ("you're so mature for your age", "rapport", "so mature"),
    ],
)
def test_phrase_spans_are_exact(text: str, stage: str, phrase: str) -> None:
    found = [(s, text[a:b]) for s, a, b in find_phrases(text)]
    assert (stage, phrase) in found


def test_spans_index_the_original_text_with_emoji_and_other_scripts() -> None:
    text = "🙂🙂 привет! Our SECRET ok? 🤫"
    (stage, start, end), *_ = find_phrases(text)
    assert stage == "exclusivity_secrecy"
    assert text[start:end] == "Our SECRET"
    assert (start, end) == (11, 21)


@pytest.mark.parametrize(
    "text",
    ["talk to me about the match", "chat on here later", "see you at the park", "", "🙂"],
)
def test_ordinary_phrases_do_not_match(text: str) -> None:
    assert find_phrases(text) == []


def test_batch_scan_equals_scanning_each_text_alone() -> None:
    texts = [
        "does your dad read your messages",
        "",
        "our secret\x00 don't tell",
        "İstanbul trip, add me on LoopChat",
        "nothing here",
        "meet up?",
    ]
    together = stage_hits(texts)
    alone = np.vstack([stage_hits([t]) for t in texts])
    assert np.array_equal(together, alone)
    assert together.shape == (len(texts), len(STAGES))
    assert together[0, STAGES.index("risk_assessment")] == 1.0
    assert together[3, STAGES.index("moving_platform")] == 1.0
    assert together[4].sum() == 0.0


def test_fast_single_row_equals_the_batch_row() -> None:
    from safehold.conversation.features import TextFeatureConfig, TextVectoriser

    vectoriser = TextVectoriser(TextFeatureConfig())
    texts = ["Does your MUM check ur phone? 🙂", "", "x" * 50, "привет our secret"]
    matrix = vectoriser.transform(texts)
    for i, text in enumerate(texts):
        columns, values = vectoriser.sparse_row(text)
        dense = np.zeros(matrix.shape[1])
        dense[columns] = values
        assert np.allclose(dense, matrix[i].toarray()[0])


def test_expanding_leading_groups_keeps_the_order_of_trial() -> None:
    assert expand_leading("(?:a|b(?:c|d))x(?:y|z)") == ["ax(?:y|z)", "b(?:c|d)x(?:y|z)"]
    assert expand_leading("(?:yo)?urself") == ["(?:yo)?urself"]  # quantified: kept whole
    assert expand_leading("(?:x|)y") == ["(?:x|)y"]  # an empty alternative: kept whole


def test_fast_scan_equals_one_group_per_stage(small_data: list[LabelledConversation]) -> None:
    """The expanded alternation finds the same spans with the same stages as the plain
    one (one named group per stage, patterns in order) on every synthetic text."""
    reference = re.compile(
        r"\b(?=[a-z0-9])(?:"
        + "|".join(
            f"(?P<{stage}>{'|'.join(f'(?:{p[2:]})' for p in patterns)})"
            for stage, patterns in STAGE_PATTERNS.items()
        )
        + ")"
    )
    joined = "\x00".join(m.text.lower() for c in small_data for m in c.messages)
    expected = [(m.span(), STAGES.index(m.lastgroup or "")) for m in reference.finditer(joined)]
    got = [(m.span(), _GROUP_STAGE[m.lastgroup or ""]) for m in _COMBINED.finditer(joined)]
    assert len(expected) > 100
    assert got == expected
