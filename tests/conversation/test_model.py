"""Training is deterministic; models save and load; the packaged default model works."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from safehold.cli.conversation import DEFAULT_TRAINING_CONVERSATIONS
from safehold.cli.conversation_data import synthetic_conversations
from safehold.conversation.model import MODEL_JSON, RiskModel
from safehold.conversation.training import train
from safehold.conversation.types import LabelledConversation


def test_training_is_deterministic_for_a_seed(
    small_data: list[LabelledConversation], small_model: RiskModel
) -> None:
    again = train(small_data, seed=0)
    assert np.array_equal(again.message_weights, small_model.message_weights)
    assert np.array_equal(again.context_weights, small_model.context_weights)
    assert again.threshold == small_model.threshold


def test_training_needs_both_kinds(small_data: list[LabelledConversation]) -> None:
    benign = [c for c in small_data if not c.grooming][:30]
    with pytest.raises(ValueError, match="both grooming-pattern and other"):
        train(benign, seed=0)
    with pytest.raises(ValueError, match="at least 6"):
        train(benign[:3], seed=0)


def test_save_and_load_give_the_same_scores(
    tmp_path: Path, small_model: RiskModel, small_data: list[LabelledConversation]
) -> None:
    small_model.save(tmp_path)
    loaded = RiskModel.load(tmp_path)
    assert loaded.threshold == small_model.threshold
    assert loaded.metadata["seed"] == 0
    messages = [m for c in small_data[:20] for m in c.messages]
    before = [r.risk for r in small_model.score_many(messages)]
    after = [r.risk for r in loaded.score_many(messages)]
    assert after == pytest.approx(before, abs=1e-5)  # weights are stored as float32
    document = json.loads((tmp_path / MODEL_JSON).read_text())
    assert document["version"] == 2
    assert "threshold" in document and "metadata" in document


def test_load_explains_what_is_wrong(tmp_path: Path, small_model: RiskModel) -> None:
    with pytest.raises(FileNotFoundError, match="conversation train"):
        RiskModel.load(tmp_path / "nothing")
    small_model.save(tmp_path)
    document = json.loads((tmp_path / MODEL_JSON).read_text())
    document["version"] = 1  # written before the numpy hashing: columns would mean other n-grams
    (tmp_path / MODEL_JSON).write_text(json.dumps(document))
    with pytest.raises(ValueError, match="retrain"):
        RiskModel.load(tmp_path)


def test_packaged_default_model_scores_held_out_synthetic_conversations() -> None:
    model = RiskModel.default()
    assert 0.0 < model.threshold < 1.0
    data = synthetic_conversations(300, seed=9_999)  # a seed the default was not trained on
    results = {r.conversation_id: r for r in model.score_many(
        [m for c in data for m in c.messages], per_message=False
    )}  # fmt: skip
    truth = np.array([c.grooming for c in data])
    warned = np.array([results[c.conversation_id].label == "risk" for c in data])
    tp = float((truth & warned).sum())
    precision = tp / max(warned.sum(), 1)
    recall = tp / truth.sum()
    assert precision >= 0.9
    assert recall >= 0.8
    ordinary = np.array([not c.grooming and not c.kind.startswith("hard_negative") for c in data])
    assert (warned & ordinary).sum() <= 1


@pytest.mark.slow
def test_training_with_the_defaults_rebuilds_the_packaged_model() -> None:
    """The shipped weights are what ``safehold conversation train`` makes today, so a change
    to the features, lexicon or training cannot leave a stale default model in the package."""
    shipped = RiskModel.default()
    rebuilt = train(synthetic_conversations(DEFAULT_TRAINING_CONVERSATIONS, seed=0), seed=0)
    assert rebuilt.threshold == shipped.threshold
    assert rebuilt.text == shipped.text
    assert np.allclose(rebuilt.message_weights, shipped.message_weights, atol=1e-6)
    assert np.allclose(rebuilt.context_weights, shipped.context_weights, atol=1e-9)
    assert rebuilt.metadata["messages"] == shipped.metadata["messages"]
