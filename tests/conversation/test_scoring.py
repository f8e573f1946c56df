"""Scoring: incremental equals batch, evidence spans, early warning and robustness."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from safehold.conversation.batch import message_probabilities
from safehold.conversation.evidence import message_evidence
from safehold.conversation.features import MAX_CHARS
from safehold.conversation.model import RiskModel
from safehold.conversation.training import with_threshold
from safehold.conversation.types import ChatMessage, LabelledConversation

from .conftest import GROOMING_LIKE, T0, chat


def test_incremental_gives_the_batch_numbers(
    small_model: RiskModel, small_data: list[LabelledConversation]
) -> None:
    for conversation in small_data[:25]:
        batch = small_model.score_conversation(conversation.messages)
        scorer = small_model.scorer()
        for message in conversation.messages:
            scorer.update(message)
        step = scorer.result()
        assert [s.risk for s in step.per_message] == pytest.approx(
            [s.risk for s in batch.per_message], abs=1e-9
        )
        assert step.messages_to_warning == batch.messages_to_warning
        assert step.first_warning_message_id == batch.first_warning_message_id
        assert step.evidence == batch.evidence
        assert step.stages_seen == batch.stages_seen
        assert step.risk == pytest.approx(batch.risk, abs=1e-9)


def test_batch_accepts_any_order_and_groups_by_conversation(
    small_model: RiskModel, small_data: list[LabelledConversation]
) -> None:
    chosen = small_data[:12]
    messages = [m for c in chosen for m in c.messages]
    shuffled = messages[:]
    random.Random(4).shuffle(shuffled)
    in_order = {r.conversation_id: r for r in small_model.score_many(messages)}
    any_order = {r.conversation_id: r for r in small_model.score_many(shuffled)}
    assert set(any_order) == {c.conversation_id for c in chosen}
    for cid, result in in_order.items():
        assert any_order[cid].risk == pytest.approx(result.risk)
        assert any_order[cid].messages_to_warning == result.messages_to_warning
        assert [s.message_id for s in any_order[cid].per_message] == [
            m.message_id for c in chosen if c.conversation_id == cid for m in c.messages
        ]


def test_grooming_pattern_warns_early_with_exact_evidence(small_model: RiskModel) -> None:
    messages = chat(GROOMING_LIKE)
    result = small_model.score_conversation(messages)
    assert result.label == "risk"
    assert result.messages_to_warning is not None
    assert result.messages_to_warning <= len(messages)
    assert result.first_warning_message_id == messages[result.messages_to_warning - 1].message_id
    by_id = {m.message_id: m.text for m in messages}
    position = {m.message_id: i for i, m in enumerate(messages)}
    assert result.evidence
    for e in result.evidence:  # what made the warning: adult lines up to the warning
        assert position[e.message_id] < result.messages_to_warning
        assert position[e.message_id] % 2 == 0
        assert by_id[e.message_id][e.start : e.end].strip() == by_id[e.message_id][e.start : e.end]
    assert {"exclusivity_secrecy", "meeting"} <= set(result.stages_seen)


def test_evidence_spans_of_flagged_messages_are_exact(small_model: RiskModel) -> None:
    messages = chat(GROOMING_LIKE)
    texts = [m.text for m in messages]
    matrix = small_model.vectoriser.transform(texts)
    probs = message_probabilities(small_model, matrix)
    phrases = set()
    for i in (2, 4, 10):
        for e in message_evidence(small_model, messages[i], texts[i], probs[i]):
            phrases.add((e.message_id, e.stage, texts[i][e.start : e.end]))
    assert ("m4", "exclusivity_secrecy", "our secret") in phrases
    assert ("m4", "exclusivity_secrecy", "don't tell") in phrases
    assert ("m2", "risk_assessment", "does your mum check") in phrases
    assert ("m10", "meeting", "pick you up") in phrases


def test_evidence_stops_at_the_first_warning(small_model: RiskModel) -> None:
    """Warn at once (threshold just above zero): only the first message can be evidence,
    in batch and incrementally alike."""
    messages = chat(GROOMING_LIKE)
    eager = with_threshold(small_model, 1e-6)
    batch = eager.score_conversation(messages)
    scorer = eager.scorer()
    for message in messages:
        scorer.update(message)
    assert batch.messages_to_warning == 1
    assert {e.message_id for e in batch.evidence} <= {"m0"}
    assert scorer.result().evidence == batch.evidence


def test_ordinary_chat_does_not_warn(small_model: RiskModel) -> None:
    messages = chat(
        [
            ("hey, did you finish the maths homework?", "13_15"),
            ("yes it was easy", "13_15"),
            ("want to play after tea?", "13_15"),
            ("sure, see you online at 6", "13_15"),
        ]
    )
    result = small_model.score_conversation(messages)
    assert result.label == "no_risk"
    assert result.messages_to_warning is None
    assert result.first_warning_message_id is None
    assert result.evidence == ()


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂🙂🙂", "привет 你好 مرحبا hello", "\x00\x00", "a" * 10]
)
def test_odd_texts_score_in_range(small_model: RiskModel, text: str) -> None:
    result = small_model.score_conversation(chat([(text, None)]))
    assert 0.0 <= result.risk <= 1.0
    assert len(result.per_message) == 1
    assert result.notes == ()


def test_one_message_conversation_incremental(small_model: RiskModel) -> None:
    scorer = small_model.scorer()
    score = scorer.update(chat([("hello", None)])[0])
    assert 0.0 <= score.risk <= 1.0
    assert scorer.result().per_message == (score,)


def test_very_long_message_is_truncated_with_a_note(small_model: RiskModel) -> None:
    long_text = "our secret " + "x" * (MAX_CHARS * 3)
    messages = chat([(long_text, "adult"), ("ok", "13_15")])
    result = small_model.score_conversation(messages)
    assert len(result.notes) == 1
    assert "m0" in result.notes[0]
    assert str(MAX_CHARS) in result.notes[0]
    scorer = small_model.scorer()
    for m in messages:
        scorer.update(m)
    assert scorer.result().notes == result.notes
    # The text beyond the cap is not read: appending more changes nothing.
    longer = [replace(messages[0], text=long_text + " meet up"), messages[1]]
    assert small_model.score_conversation(longer).risk == pytest.approx(result.risk)


@pytest.mark.parametrize("band", [None, "unknown", "adult"])
def test_unknown_or_missing_bands_still_score(small_model: RiskModel, band: str | None) -> None:
    messages = chat([(t, band) for t, _ in GROOMING_LIKE])
    result = small_model.score_conversation(messages)
    assert 0.0 <= result.risk <= 1.0
    assert len(result.per_message) == len(messages)


def test_known_child_sender_is_not_flagged_as_the_groomer(small_model: RiskModel) -> None:
    # The same lines, sent by a known 13-15 year old to a known 13-15 year old.
    child_only = chat([(t, "13_15") for t, _ in GROOMING_LIKE])
    adult_child = chat(GROOMING_LIKE)
    assert (
        small_model.score_conversation(child_only).risk
        < small_model.score_conversation(adult_child).risk
    )
    assert small_model.score_conversation(child_only).evidence == ()


def test_naive_and_aware_times_and_ties(small_model: RiskModel) -> None:
    base = T0.replace(tzinfo=None)
    messages = [
        ChatMessage("c9", f"m{i}", "a", base + timedelta(seconds=0), f"hi {i}", None)
        for i in range(3)
    ]
    result = small_model.score_conversation(messages)
    assert [s.message_id for s in result.per_message] == ["m0", "m1", "m2"]


def test_score_conversation_refuses_mixed_or_empty(small_model: RiskModel) -> None:
    with pytest.raises(ValueError, match="at least one message"):
        small_model.score_conversation([])
    mixed = chat([("a", None)], "c1") + chat([("b", None)], "c2")
    with pytest.raises(ValueError, match="score_many"):
        small_model.score_conversation(mixed)
    scorer = small_model.scorer()
    scorer.update(mixed[0])
    with pytest.raises(ValueError, match="one scorer per conversation"):
        scorer.update(mixed[1])
    with pytest.raises(ValueError, match="update"):
        small_model.scorer().result()


def test_score_many_of_nothing_is_empty(small_model: RiskModel) -> None:
    assert small_model.score_many([]) == []


def test_lone_surrogate_from_json_is_scored(small_model: RiskModel) -> None:
    messages = chat([("hi \ud800 our secret", "adult"), ("ok", "13_15")])
    batch = small_model.score_conversation(messages)
    scorer = small_model.scorer()
    for m in messages:
        scorer.update(m)
    assert scorer.result().risk == pytest.approx(batch.risk)


@pytest.mark.parametrize(
    "prefix", ["🙂🙂 ", "İstanbul İİ ", "привет 你好 ", "Straße ﬁ ", "👨‍👩‍👧 "]
)
def test_evidence_spans_hold_after_emoji_and_other_scripts(
    small_model: RiskModel, prefix: str
) -> None:
    """Spans count Python code points in the original text, even where lower-casing
    changes a text's length (İ) or one visible emoji is several code points."""
    eager = with_threshold(small_model, 1e-6)
    text = prefix + "this is our secret, don't tell anyone"
    result = eager.score_conversation(chat([(text, "adult")]))
    phrases = {text[e.start : e.end] for e in result.evidence}
    assert {"our secret", "don't tell"} <= phrases
