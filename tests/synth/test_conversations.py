"""Tests for the synthetic conversation generator: determinism, exchange validity,
ground-truth consistency, held-out phrasing families, clean content, and timing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from safehold.exchange.base import AgeBand
from safehold.exchange.conversations import Conversation
from safehold.synth.conversations import (
    HARD_NEGATIVE_KINDS,
    KINDS,
    ORDINARY_KINDS,
    PHRASING_FAMILIES,
    STAGE_RANK,
    STAGES,
    GeneratedConversations,
    generate_conversations,
)
from safehold.synth.phrasing import (
    GROOMING_STAGES,
    SLOT_FILLERS,
    iter_templates,
    stage_lines,
    validate_banks,
)

MINORS = {"under_13", "13_15", "16_17"}
BANDS = {b.value for b in AgeBand}

# Mild, non-graphic guard words: no template, filler or generated line may contain them.
BLOCKLIST = re.compile(r"\b(naked|nudes?|sex\w*|undress\w*|body pics?|lingerie)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def generated() -> GeneratedConversations:
    return generate_conversations(700, seed=20260101)


def _with_kind(g: GeneratedConversations) -> pl.DataFrame:
    return g.messages.join(
        g.conversations.select("conversation_id", "label", "kind"), on="conversation_id"
    )


def test_same_seed_gives_identical_output() -> None:
    a = generate_conversations(250, seed=5)
    b = generate_conversations(250, seed=5)
    assert a.messages.equals(b.messages)
    assert a.conversations.equals(b.conversations)
    c = generate_conversations(250, seed=6)
    assert not a.messages.equals(c.messages)


def test_every_conversation_is_a_valid_exchange_record(generated: GeneratedConversations) -> None:
    records = list(generated.to_exchange())
    assert len(records) == generated.conversations.height
    counts = dict(generated.conversations.select("conversation_id", "n_messages").iter_rows())
    for record in records:
        assert isinstance(record, Conversation)
        again = Conversation.model_validate(record.model_dump())
        assert again == record
        assert len(record.messages) == counts[record.conversation_id]
        assert all(p.subject is None for p in record.participants)


def test_frames_have_the_documented_schema(generated: GeneratedConversations) -> None:
    m, c = generated.messages, generated.conversations
    assert m.columns == ["conversation_id", "message_id", "sender_id", "sent_at", "text", "stage"]
    assert m.schema["sent_at"] == pl.Datetime("us", "UTC")
    assert c.schema["participant_ids"] == pl.List(pl.String)
    assert c.schema["first_grooming_message"] == pl.Int64
    assert set(m["stage"].unique()) <= set(STAGES)
    assert m.filter(pl.col("text").str.strip_chars() == "").height == 0
    assert c["n_messages"].sum() == m.height
    assert c["conversation_id"].n_unique() == c.height
    assert m.select(pl.struct("conversation_id", "message_id").n_unique()).item() == m.height
    for ids, bands, fams in c.select(
        "participant_ids", "participant_age_bands", "phrasing_families"
    ).iter_rows():
        assert len(ids) == len(bands) == len(fams) >= 2
        assert set(bands) <= BANDS
        assert set(fams) <= set(PHRASING_FAMILIES)


def test_timestamps_ordered_and_start_inside_period() -> None:
    start = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    g = generate_conversations(300, seed=9, start=start, period_days=30)
    m = g.messages
    unordered = m.with_columns(d=pl.col("sent_at").diff().over("conversation_id")).filter(
        pl.col("d") < timedelta(0)
    )
    assert unordered.height == 0
    firsts = m.group_by("conversation_id").agg(pl.col("sent_at").min())["sent_at"]
    assert firsts.min() >= start
    assert firsts.max() < start + timedelta(days=31)


def test_kind_shares_are_exact_and_every_kind_appears(generated: GeneratedConversations) -> None:
    c = generated.conversations
    counts = dict(c.group_by("kind").len().iter_rows())
    assert set(counts) == set(KINDS)
    assert counts["grooming"] == round(700 * 0.3)
    assert sum(counts[k] for k in HARD_NEGATIVE_KINDS) == round(700 * 0.2)
    assert sum(counts[k] for k in ORDINARY_KINDS) == 700 - 210 - 140
    assert set(c.filter(pl.col("kind") == "grooming")["label"]) == {"grooming"}
    assert set(c.filter(pl.col("kind") != "grooming")["label"]) == {"benign"}


def test_grooming_stages_move_forward_and_cover_three_stages(
    generated: GeneratedConversations,
) -> None:
    grooming = generated.conversations.filter(pl.col("label") == "grooming")
    staged = generated.messages.filter(pl.col("stage") != "none")
    by_conv = staged.group_by("conversation_id", maintain_order=True).agg("stage", "sender_id")
    stages = {cid: (s, who) for cid, s, who in by_conv.iter_rows()}
    for cid in grooming["conversation_id"]:
        sequence, senders = stages[cid]
        ranks = [STAGE_RANK[s] for s in sequence]
        assert ranks == sorted(ranks), f"{cid}: stages go backwards: {sequence}"
        assert len(set(sequence)) >= 3, f"{cid}: fewer than three stages"
        assert set(senders) == {"p1"}, "stage lines come from the adult"
    # Variation: not every conversation has every stage, and stages repeat.
    distinct = [len(set(stages[cid][0])) for cid in grooming["conversation_id"]]
    assert min(distinct) < len(GROOMING_STAGES)
    assert max(distinct) == len(GROOMING_STAGES)
    assert any(len(s) > len(set(s)) for s, _ in stages.values())
    # Ordinary small talk is interleaved between stage lines.
    m = generated.messages.join(grooming.select("conversation_id"), on="conversation_id")
    assert m.filter(pl.col("stage") == "none").height > 0.3 * m.height


def test_first_grooming_message_matches_the_stage_column(
    generated: GeneratedConversations,
) -> None:
    first = (
        generated.messages.with_columns(pos=pl.int_range(pl.len()).over("conversation_id"))
        .filter(pl.col("stage") != "none")
        .group_by("conversation_id")
        .agg(pl.col("pos").min().alias("expected"))
    )
    joined = generated.conversations.join(first, on="conversation_id", how="left").with_columns(
        pl.col("expected").fill_null(-1).cast(pl.Int64)
    )
    assert (joined["first_grooming_message"] == joined["expected"]).all()
    benign = joined.filter(pl.col("label") == "benign")
    assert (benign["first_grooming_message"] == -1).all()
    assert (joined.filter(pl.col("label") == "grooming")["first_grooming_message"] >= 0).all()


def test_hard_negatives_exist_and_are_benign(generated: GeneratedConversations) -> None:
    m = _with_kind(generated)
    hard = m.filter(pl.col("kind").str.starts_with("hard_negative_"))
    assert set(hard["kind"].unique()) == set(HARD_NEGATIVE_KINDS)
    assert set(hard["label"].unique()) == {"benign"}
    assert set(m.filter(pl.col("label") == "benign")["stage"].unique()) == {"none"}
    # They really share grooming vocabulary.
    text = " ".join(hard["text"].str.to_lowercase().to_list())
    for phrase in ("tell your", "gift card", "pick", "secret", "home alone", "delete"):
        assert phrase in text, phrase


def test_age_bands_fit_each_kind(generated: GeneratedConversations) -> None:
    c = generated.conversations
    for kind, bands in c.select("kind", "participant_age_bands").iter_rows():
        if kind == "grooming":
            assert bands[0] not in MINORS
            assert bands[1] in MINORS
        elif kind == "friends":
            assert bands[0] == bands[1]
        elif kind in ("school", "hard_negative_teacher_meeting", "hard_negative_coach_pickup"):
            assert bands[0] not in MINORS
            assert bands[1] in MINORS
        elif kind == "shopping":
            assert bands[1] not in MINORS


def test_banks_are_sound_and_rich() -> None:
    assert validate_banks() == []
    for stage in GROOMING_STAGES:
        families_with_lines = [f for f in PHRASING_FAMILIES if len(stage_lines(f, stage)) >= 6]
        assert len(families_with_lines) >= 3, stage
    for slot in ("game", "app", "vanish_app"):
        assert len(SLOT_FILLERS[slot]) >= 5


def _normalise(template: str) -> str:
    return re.sub(r"[^a-z0-9{}]+", " ", template.lower()).strip()


def test_grooming_templates_are_distinct_per_family() -> None:
    for stage in GROOMING_STAGES:
        seen: dict[str, str] = {}
        for family in PHRASING_FAMILIES:
            for line in stage_lines(family, stage):
                key = _normalise(line.template)
                assert key not in seen, (
                    f"{stage}: {line.template!r} in {seen.get(key)} and {family}"
                )
                seen[key] = family


def test_holding_out_families_changes_the_phrasing() -> None:
    train_families = ["formal", "casual", "textspeak"]
    test_families = ["emoji_light", "typo_prone", "terse"]
    train = generate_conversations(400, seed=1, families=train_families)
    test = generate_conversations(400, seed=2, families=test_families)
    for g, allowed in ((train, train_families), (test, test_families)):
        used = set(g.conversations["phrasing_families"].explode())
        assert used == set(allowed)

    def stage_texts(g: GeneratedConversations) -> set[str]:
        staged = g.messages.filter(pl.col("stage") != "none")["text"]
        return {_normalise(t) for t in staged}

    train_texts, test_texts = stage_texts(train), stage_texts(test)
    assert train_texts
    assert test_texts
    assert train_texts.isdisjoint(test_texts)


def test_no_explicit_words_anywhere(generated: GeneratedConversations) -> None:
    for family, bank, template in iter_templates():
        assert not BLOCKLIST.search(template), (family, bank, template)
    for slot, values in SLOT_FILLERS.items():
        for value in values:
            assert not BLOCKLIST.search(value), (slot, value)
    flagged = generated.messages.filter(pl.col("text").str.contains(BLOCKLIST.pattern))
    assert flagged.height == 0, flagged["text"].to_list()[:5]


def test_blocklist_guard_catches_what_it_should() -> None:
    assert BLOCKLIST.search("send body pics")
    assert BLOCKLIST.search("Nude")
    assert not BLOCKLIST.search("we live in Essex and Sussex")


def test_grooming_happens_later_at_night_and_escalates(
    generated: GeneratedConversations,
) -> None:
    hour = pl.col("sent_at").dt.hour()
    per_conv = (
        _with_kind(generated)
        .with_columns(night=(hour >= 22) | (hour < 6))
        .group_by("conversation_id", "label")
        .agg(pl.col("night").mean())
    )
    share = dict(per_conv.group_by("label").agg(pl.col("night").mean()).iter_rows())
    assert share["grooming"] > share["benign"] + 0.08
    # Not always: some grooming conversations have no night-time message at all.
    grooming = per_conv.filter(pl.col("label") == "grooming")
    assert (grooming["night"] == 0).sum() > 0

    gaps = (
        generated.messages.with_columns(
            gap=pl.col("sent_at").diff().over("conversation_id").dt.total_seconds(),
            pos=pl.int_range(pl.len()).over("conversation_id"),
            size=pl.len().over("conversation_id"),
        )
        .filter(pl.col("pos") > 0, pl.col("size") >= 8)
        .with_columns(late=pl.col("pos") >= pl.col("size") / 2)
        .group_by("conversation_id")
        .agg(
            early=pl.col("gap").filter(~pl.col("late")).mean(),
            late=pl.col("gap").filter(pl.col("late")).mean(),
        )
        .join(generated.conversations.select("conversation_id", "label"), on="conversation_id")
        .with_columns(shorter=pl.col("late") < pl.col("early"))
    )
    shorter = dict(gaps.group_by("label").agg(pl.col("shorter").mean()).iter_rows())
    assert shorter["grooming"] > 0.55
    assert shorter["grooming"] > shorter["benign"]


def test_restricting_to_one_family_still_produces_every_kind() -> None:
    g = generate_conversations(200, seed=4, families=["terse"])
    assert set(g.conversations["phrasing_families"].explode()) == {"terse"}
    assert set(g.conversations["kind"]) == set(KINDS)
    assert len(list(g.to_exchange())) == 200


def test_zero_conversations_gives_empty_frames() -> None:
    g = generate_conversations(0, seed=1)
    assert g.messages.height == 0
    assert g.conversations.height == 0
    assert g.messages.schema["sent_at"] == pl.Datetime("us", "UTC")
    assert list(g.to_exchange()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be"),
        ({"grooming_share": 1.5}, "grooming_share"),
        ({"grooming_share": 0.7, "hard_negative_share": 0.5}, "must not exceed 1"),
        ({"start": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"period_days": 0}, "period_days"),
        ({"families": ["formal", "shouty"]}, "unknown phrasing families"),
        ({"families": []}, "at least one"),
        ({"families": "formal"}, "not one string"),
    ],
)
def test_bad_arguments_are_refused_clearly(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"n": 10, "seed": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate_conversations(**arguments)  # type: ignore[arg-type]
