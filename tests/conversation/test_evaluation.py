"""Held-out evaluation: splits never leak a family, figures are exact on known answers,
bootstrap intervals behave, hard negatives are kept apart from ordinary conversations."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from safehold.conversation.evaluation import (
    Fold,
    FoldRun,
    check_split,
    families_of,
    family_splits,
    run_fold,
    score_held_out,
    single_split,
    summarise,
)
from safehold.conversation.evaluation_metrics import (
    Estimate,
    Outcome,
    bootstrap_weights,
    estimate_all,
    judge_targets,
    weighted_auroc,
    weighted_median,
)
from safehold.conversation.evaluation_report import render_html
from safehold.conversation.model import RiskModel
from safehold.conversation.types import ChatMessage, ConversationResult, LabelledConversation

FAMILIES = ("formal", "casual", "textspeak", "emoji_light", "typo_prone", "terse")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _conversation(cid: str, kind: str, family: str, stages: Sequence[str]) -> LabelledConversation:
    messages = tuple(
        ChatMessage(cid, f"{cid}-{i}", "a" if i % 2 else "b", T0 + timedelta(minutes=i), f"m{i}")
        for i in range(len(stages))
    )
    first = next((i for i, s in enumerate(stages) if s != "none"), -1)
    return LabelledConversation(
        cid, messages, kind == "grooming", kind, family, tuple(stages), first
    )


def _result(cid: str, risk: float, warn_at: int | None) -> ConversationResult:
    return ConversationResult(
        conversation_id=cid,
        risk=risk,
        label="risk" if warn_at is not None else "no_risk",
        messages_to_warning=warn_at,
        first_warning_message_id=None if warn_at is None else f"{cid}-{warn_at - 1}",
        evidence=(),
        stages_seen=(),
    )


@dataclass
class FakeModel:
    """Answers fixed in advance per conversation id (risk, messages to warning)."""

    answers: Mapping[str, tuple[float, int | None]]
    threshold: float = 0.5
    seen: list[str] = field(default_factory=list)

    def score_many(self, messages: Iterable[ChatMessage]) -> list[ConversationResult]:
        ids = list(dict.fromkeys(m.conversation_id for m in messages))
        self.seen.extend(ids)
        return [_result(cid, *self.answers[cid]) for cid in reversed(ids)]


def _outcome(
    cid: str,
    kind: str,
    flagged: bool,
    risk: float,
    to_warning: int | None = None,
    first: int = -1,
    family: str = "formal",
    harm: int = 20,
) -> Outcome:
    return Outcome(
        cid, 0, family, kind, kind == "grooming", risk, flagged, to_warning, first, harm, 20
    )


def _known() -> list[Outcome]:
    return [
        _outcome("g1", "grooming", True, 0.9, 5, first=1),
        _outcome("g2", "grooming", True, 0.8, 7, first=2),
        _outcome("g3", "grooming", True, 0.7, 12, first=3, harm=10),
        _outcome("g4", "grooming", False, 0.3, first=0),
        *[_outcome(f"o{i}", "friends", False, 0.1 * i) for i in range(5)],
        _outcome("o5", "school", True, 0.6, 4),
        _outcome("h1", "hard_negative_coach_pickup", True, 0.65, 3),
        _outcome("h2", "hard_negative_family_presents", False, 0.2),
    ]


# --- splits -------------------------------------------------------------------------------


def test_family_splits_hold_every_family_out_once_and_never_train_on_it() -> None:
    folds = family_splits(FAMILIES, hold_out=2)
    assert len(folds) == 3
    tested = [f for fold in folds for f in fold.test_families]
    assert sorted(tested) == sorted(FAMILIES)
    for fold in folds:
        assert len(fold.test_families) == 2
        assert not set(fold.train_families) & set(fold.test_families)
        assert set(fold.train_families) | set(fold.test_families) == set(FAMILIES)


@pytest.mark.parametrize("hold_out", [0, 6])
def test_family_splits_refuse_impossible_hold_outs(hold_out: int) -> None:
    with pytest.raises(ValueError, match="hold out"):
        family_splits(FAMILIES, hold_out=hold_out)


def test_single_split_names_unknown_families() -> None:
    assert single_split(FAMILIES, ["terse", "formal"]).test_families == ("terse", "formal")
    with pytest.raises(ValueError, match="unknown test families \\['shouty'\\]"):
        single_split(FAMILIES, ["shouty"])
    with pytest.raises(ValueError, match="proper subset"):
        single_split(FAMILIES, FAMILIES)


def test_check_split_refuses_a_family_on_the_wrong_side_and_shared_conversations() -> None:
    fold = Fold(0, ("formal",), ("terse",))
    train = [_conversation("a", "friends", "formal", ["none"])]
    check_split(fold, train, [_conversation("b", "friends", "terse", ["none"])])
    with pytest.raises(ValueError, match="test set has conversations in families \\['formal'\\]"):
        check_split(fold, train, [_conversation("c", "friends", "formal", ["none"])])
    with pytest.raises(ValueError, match="in both sets"):
        check_split(
            Fold(0, ("formal", "terse"), ("formal", "terse")),
            train,
            [_conversation("a", "friends", "terse", ["none"])],
        )


# --- figures on known answers -------------------------------------------------------------


def test_figures_are_exact_on_known_answers() -> None:
    outcomes = _known()
    est = estimate_all(outcomes, resamples=50, seed=1)
    # 3 true positives, 1 missed, 2 false positives (one ordinary, one hard negative).
    assert est["precision"].value == pytest.approx(3 / 5)
    assert est["recall"].value == pytest.approx(3 / 4)
    assert est["f05"].value == pytest.approx(1.25 * 0.6 * 0.75 / (0.25 * 0.6 + 0.75))
    y = [o.grooming for o in outcomes]
    assert est["auroc"].value == pytest.approx(roc_auc_score(y, [o.risk for o in outcomes]))
    assert est["mean_messages_to_warning"].value == pytest.approx(8.0)
    assert est["median_messages_to_warning"].value == 7.0
    # Warned after reading 5, 7, 12 messages; first grooming messages at 1, 2, 3 (0-based).
    assert est["mean_messages_after_first_grooming"].value == pytest.approx((3 + 4 + 8) / 3)
    assert est["median_messages_after_first_grooming"].value == 4.0
    # g3 was warned after its meeting request (message 10): early for g1 and g2 only.
    assert est["warned_before_harm_share"].value == pytest.approx(2 / 4)


def test_hard_negatives_are_counted_apart_from_ordinary_conversations() -> None:
    est = estimate_all(_known(), resamples=50, seed=1)
    ordinary = est["ordinary_false_warnings_per_1000"]
    assert ordinary.value == pytest.approx(1000 / 6) and ordinary.n == 6
    hard = est["hard_negative_false_warnings_per_1000"]
    assert hard.value == pytest.approx(500.0) and hard.n == 2
    assert est["hard_negative_false_warnings_per_1000[hard_negative_coach_pickup]"].value == 1000
    assert est["hard_negative_false_warnings_per_1000[hard_negative_family_presents]"].value == 0


def test_weighted_auroc_matches_scikit_learn_with_ties_and_repeats() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=60).astype(float) / 4
    truth = rng.random(60) < 0.4
    counts = rng.integers(0, 4, size=60)
    got = weighted_auroc(counts[None, :].astype(float), scores, truth)[0]
    expected = roc_auc_score(np.repeat(truth, counts), np.repeat(scores, counts))
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_weighted_median_matches_numpy_on_the_resampled_list(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 30, size=25).astype(float)
    counts = rng.integers(0, 3, size=(5, 25))
    got = weighted_median(counts.astype(float), values)
    for row, value in zip(counts, got, strict=True):
        assert value == np.median(np.repeat(values, row))


def test_no_false_warnings_in_600_is_not_proof_of_fewer_than_5_per_1000() -> None:
    outcomes = [_outcome(f"o{i}", "friends", False, 0.1) for i in range(600)]
    outcomes.append(_outcome("g", "grooming", True, 0.9, 4, first=1))
    est = estimate_all(outcomes, resamples=50, seed=0)
    rate = est["ordinary_false_warnings_per_1000"]
    assert (rate.value, rate.low, rate.high) == (0.0, 0.0, 0.0)
    assert rate.exact_low == 0.0
    assert rate.exact_high == pytest.approx(1000 * (1 - 0.025 ** (1 / 600)))
    judged = {t["figure"]: t for t in judge_targets(est)}
    assert judged["ordinary_false_warnings_per_1000"]["met"] is True
    assert judged["ordinary_false_warnings_per_1000"]["met_at_ci_bound"] is False


def test_undefined_figures_are_none_not_nan() -> None:
    est = estimate_all([_outcome("o", "friends", False, 0.1)], resamples=20, seed=0)
    assert est["recall"].value is None and est["recall"].low is None
    assert est["auroc"].value is None
    assert est["ordinary_false_warnings_per_1000"].value == 0.0


# --- bootstrap ----------------------------------------------------------------------------


def _simulated(n: int, seed: int) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        grooming = rng.random() < 0.3
        flagged = rng.random() < (0.8 if grooming else 0.05)
        kind = "grooming" if grooming else "friends"
        warn = int(rng.integers(3, 20)) if flagged else None
        out.append(_outcome(f"c{i}", kind, flagged, float(rng.random()), warn, first=1))
    return out


def _width(est: Estimate) -> float:
    assert est.low is not None and est.high is not None
    return est.high - est.low


def test_bootstrap_intervals_contain_the_point_and_shrink_with_more_data() -> None:
    small = estimate_all(_simulated(300, 0), resamples=400, seed=5)
    large = estimate_all(_simulated(6000, 0), resamples=400, seed=5)
    for name in ("precision", "recall", "f05", "auroc", "ordinary_false_warnings_per_1000"):
        for est in (small[name], large[name]):
            assert est.low is not None and est.high is not None and est.value is not None
            assert est.low <= est.value <= est.high, name
        assert _width(large[name]) < _width(small[name]), name


def test_bootstrap_is_seeded() -> None:
    a = estimate_all(_simulated(200, 1), resamples=100, seed=9)
    b = estimate_all(_simulated(200, 1), resamples=100, seed=9)
    c = estimate_all(_simulated(200, 1), resamples=100, seed=10)
    assert a == b
    assert a["recall"] != c["recall"]


def test_bootstrap_weights_resample_every_conversation_count() -> None:
    chunks = list(bootstrap_weights(50, 450, seed=0, chunk=200))
    assert [c.shape for c in chunks] == [(200, 50), (200, 50), (50, 50)]
    assert all((c.sum(axis=1) == 50).all() for c in chunks)


def test_targets_are_judged_on_the_point_and_on_the_ci_bound() -> None:
    est = estimate_all(_simulated(2000, 2), resamples=200, seed=0)
    judged = {t["figure"]: t for t in judge_targets(est)}
    assert set(judged) == {
        "f05",
        "recall",
        "ordinary_false_warnings_per_1000",
        "median_messages_to_warning",
    }
    # Recall is about 0.8 (above 0.7); ordinary false warnings about 50 per 1,000 (above 5).
    assert judged["recall"]["met"] is True
    assert judged["ordinary_false_warnings_per_1000"]["met"] is False
    assert judged["ordinary_false_warnings_per_1000"]["met_at_ci_bound"] is False


# --- scoring held-out conversations -------------------------------------------------------


def _held_out() -> tuple[list[LabelledConversation], FakeModel]:
    grooming = ["none", "rapport", "none", "risk_assessment", "gifts", "none", "meeting", "none"]
    conversations = [
        _conversation("g1", "grooming", "terse", grooming),
        _conversation("g2", "grooming", "terse", ["none", "none", *grooming]),
        _conversation("o1", "friends", "terse", ["none"] * 4),
        _conversation("o2", "family", "terse", ["none"] * 3),
        _conversation("h1", "hard_negative_teacher_meeting", "terse", ["none"] * 5),
    ]
    # g1: warned after reading 4 messages (first grooming message is index 1).
    # g2: warned after 9 messages, past its meeting request at index 8.
    answers = {
        "g1": (0.9, 4),
        "g2": (0.7, 9),
        "o1": (0.1, None),
        "o2": (0.2, None),
        "h1": (0.8, 2),
    }
    return conversations, FakeModel(answers)


def test_messages_to_warning_are_measured_from_the_first_grooming_message() -> None:
    conversations, model = _held_out()
    outcomes = score_held_out(model, conversations, fold=2)
    by_id = {o.conversation_id: o for o in outcomes}
    assert by_id["g1"].harm_message == 6 and by_id["g2"].harm_message == 8
    assert by_id["o1"].harm_message == 4
    assert [o.fold for o in outcomes] == [2] * 5
    est = estimate_all(outcomes, resamples=20, seed=0)
    assert est["mean_messages_to_warning"].value == pytest.approx(6.5)
    # g1: 4 - (1 + 1) = 2 after; g2: 9 - (3 + 1) = 5 after.
    assert est["mean_messages_after_first_grooming"].value == pytest.approx(3.5)
    assert est["warned_before_harm_share"].value == pytest.approx(0.5)
    assert est["ordinary_false_warnings_per_1000"].value == 0.0
    assert est["hard_negative_false_warnings_per_1000"].value == 1000.0
    assert est["precision"].value == pytest.approx(2 / 3)


def test_hiding_ages_drops_every_sender_age_band() -> None:
    conversations, _ = _held_out()
    conversations = [
        dataclasses.replace(
            c, messages=tuple(dataclasses.replace(m, sender_age_band="adult") for m in c.messages)
        )
        for c in conversations
    ]
    seen: set[str | None] = set()

    @dataclass
    class Recorder(FakeModel):
        def score_many(self, messages: Iterable[ChatMessage]) -> list[ConversationResult]:
            listed = list(messages)
            seen.update(m.sender_age_band for m in listed)
            return super().score_many(listed)

    model = Recorder(_held_out()[1].answers)
    score_held_out(model, conversations, hide_ages=True)
    assert seen == {None}
    score_held_out(model, conversations)
    assert seen == {None, "adult"}


def test_a_missing_result_names_the_conversation() -> None:
    conversations, model = _held_out()
    model.answers = {k: v for k, v in model.answers.items() if k != "o2"}

    class Partial(FakeModel):
        def score_many(self, messages: Iterable[ChatMessage]) -> list[ConversationResult]:
            kept = [m for m in messages if m.conversation_id in self.answers]
            return super().score_many(kept)

    with pytest.raises(ValueError, match="no result for conversation 'o2'"):
        score_held_out(Partial(model.answers), conversations)


def test_run_fold_trains_only_on_training_families_and_summarises() -> None:
    conversations, model = _held_out()
    train = [_conversation(f"t{i}", "friends", "formal", ["none"] * 2) for i in range(3)]
    trained_on: list[str] = []

    def trainer(data: Sequence[LabelledConversation], /, *, seed: int) -> FakeModel:
        trained_on.extend(c.family for c in data)
        return model

    fold = Fold(0, ("formal",), ("terse",))
    run = run_fold(trainer, fold, train, conversations, seed=4)
    assert set(trained_on) == {"formal"}
    # Scored twice: as given, and again with the sender age bands hidden.
    assert sorted(model.seen) == sorted(2 * [c.conversation_id for c in conversations])
    assert run.model == {"class": "FakeModel", "threshold": 0.5}
    report = summarise([run], resamples=50, seed=0)
    text = json.dumps(report, allow_nan=False)
    assert json.loads(text)["counts"]["hard_negative"] == 1
    assert report["split"]["folds"] == [fold.as_dict()]
    assert set(report["per_family"]) == {"terse"}
    assert report["figures_without_age_bands"]["recall"]["value"] == 1.0
    assert families_of(conversations) == ("terse",)


def test_html_page_escapes_values_and_shows_the_targets() -> None:
    outcomes = [dataclasses.replace(o, family="<script>x</script>") for o in _known()]
    fold = Fold(0, ("formal",), ("<script>x</script>",))
    report = summarise([FoldRun(fold, tuple(outcomes), 10, {})], resamples=20, seed=0)
    page = render_html(report)
    assert "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "F0.5 (PAN 2012)" in page and "Met at CI bound" in page
    assert "http" not in page.replace('lang="en"', "")


# --- with the synthetic generator and the CLI ---------------------------------------------


def test_run_evaluation_generates_strictly_held_out_sets(tmp_path: Path) -> None:
    from safehold.cli.conversation_evaluate import plan_folds, run_evaluation, write_report

    trained_families: list[set[str]] = []

    def trainer(data: Sequence[LabelledConversation], /, *, seed: int) -> FakeModel:
        trained_families.append({c.family for c in data})
        return _TruthPeeker(answers={})

    folds = plan_folds(None)
    report = run_evaluation(
        trainer, folds, conversations=40, test_conversations=40, seed=1, resamples=30
    )
    assert trained_families == [set(f.train_families) for f in folds]
    for fold, part in zip(folds, report["per_fold"], strict=True):
        assert part["test_families"] == list(fold.test_families)
    assert set(report["per_family"]) == set(FAMILIES)
    assert report["counts"]["conversations"] == 3 * 40
    json_path, html_path = write_report(report, tmp_path / "eval")
    assert json.loads(json_path.read_text())["settings"]["data_seeds"]["0"] == {
        "train": 1000,
        "test": 1001,
    }
    assert html_path.read_text().startswith("<!doctype html>")


@dataclass
class _TruthPeeker(FakeModel):
    """Flags any conversation whose text mentions keeping something between us (a crude
    keyword rule, so the figures are neither all-perfect nor all-zero)."""

    def score_many(self, messages: Iterable[ChatMessage]) -> list[ConversationResult]:
        out: dict[str, tuple[float, int | None]] = {}
        counts: dict[str, int] = {}
        for m in messages:
            counts[m.conversation_id] = counts.get(m.conversation_id, 0) + 1
            risk, warn = out.get(m.conversation_id, (0.0, None))
            if warn is None and any(w in m.text.lower() for w in ("secret", "between us")):
                out[m.conversation_id] = (0.9, counts[m.conversation_id])
            else:
                out.setdefault(m.conversation_id, (risk, warn))
        return [_result(cid, *answer) for cid, answer in out.items()]


def test_plan_folds_reads_test_families() -> None:
    from safehold.cli.conversation_evaluate import plan_folds

    (fold,) = plan_folds("terse, formal")
    assert fold.test_families == ("terse", "formal")
    with pytest.raises(ValueError, match="unknown"):
        plan_folds("shouty")


def test_evaluate_command_with_the_real_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end on a small synthetic set: one fold, the real training code (with small
    hashed feature spaces and one BLAS thread, so it takes seconds), both files written."""
    import typer
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    from typer.testing import CliRunner

    from safehold.cli.conversation_evaluate import evaluate
    from safehold.conversation import training
    from safehold.conversation.features import TextFeatureConfig

    real_train = training.train
    small = training.TrainingSettings(text=TextFeatureConfig(word_bits=12, char_bits=12))

    def small_train(data: Sequence[LabelledConversation], *, seed: int = 0) -> RiskModel:
        with threadpool_limits(1):
            return real_train(data, seed=seed, settings=small)

    monkeypatch.setattr(training, "train", small_train)
    app = typer.Typer()
    app.command()(evaluate)
    out = tmp_path / "eval"
    args = ["--out", str(out), "--conversations", "150", "--test-families", "formal,casual"]
    result = CliRunner().invoke(app, [*args, "--resamples", "100", "--seed", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "evaluation.json").read_text())
    assert report["split"]["folds"] == [
        {
            "fold": 0,
            "train_families": ["textspeak", "emoji_light", "typo_prone", "terse"],
            "test_families": ["formal", "casual"],
        }
    ]
    assert set(report["per_family"]) <= {"formal", "casual"}
    assert report["counts"]["conversations"] == 150
    assert report["settings"]["model"]["class"] == "RiskModel"
    assert 0.0 < report["settings"]["model"]["threshold"] < 1.0
    for figure in ("precision", "recall", "f05", "auroc"):
        value = report["figures"][figure]["value"]
        assert value is not None and 0.0 <= value <= 1.0
    assert (out / "evaluation.html").read_text().count("<table>") >= 3
    assert "Wrote" in result.output


def test_evaluate_command_refuses_unknown_families(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from safehold.cli.conversation_evaluate import evaluate

    app = typer.Typer()
    app.command()(evaluate)
    result = CliRunner().invoke(app, ["--out", str(tmp_path), "--test-families", "shouty"])
    assert result.exit_code == 2
    assert "unknown test families ['shouty']" in result.output
    assert not (tmp_path / "evaluation.json").exists()
