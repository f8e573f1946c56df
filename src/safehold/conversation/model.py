"""The risk model: its weights, its threshold, and how it is saved and loaded.

Why this shape: a linear message model (hashed n-grams + lexicon -> stage probabilities)
and a linear conversation model (context -> calibrated risk) are fast, explain themselves
through their weights, and fit in a small weights-only file (JSON + NPZ, never pickle) that
ships inside the package, so ``RiskModel.default()`` needs no download.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from safehold.conversation.context import CONTEXT_NAMES, N_CONTEXT
from safehold.conversation.features import TextFeatureConfig, TextVectoriser
from safehold.conversation.types import STAGES, ChatMessage, ConversationResult
from safehold.conversation.warning import WarningPolicy

if TYPE_CHECKING:
    from safehold.conversation.scorer import ConversationScorer

Floats = npt.NDArray[np.float64]

FORMAT = "safehold.conversation.risk_model"
FORMAT_VERSION = 2
"""2: numpy-hashed word n-grams and 1/sqrt(count) scaling (version 1 used sklearn hashing)."""
MODEL_JSON = "model.json"
WEIGHTS_NPZ = "message_weights.npz"
CLASSES: tuple[str, ...] = ("none", *STAGES)
"""Message-model classes: no stage, then one per stage."""


@dataclass
class RiskModel:
    """Message weights (features x classes), conversation weights, and the policy."""

    text: TextFeatureConfig
    message_weights: Floats
    message_intercept: Floats
    context_weights: Floats
    context_intercept: float
    threshold: float = 0.5
    flag_threshold: float = 0.5
    policy: WarningPolicy = field(default_factory=WarningPolicy)
    metadata: dict[str, Any] = field(default_factory=dict)
    _vectoriser: TextVectoriser | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        expected = (self.text.dimension, len(CLASSES))
        if self.message_weights.shape != expected:
            raise ValueError(
                f"message weights have shape {self.message_weights.shape}, expected {expected}"
            )
        if self.context_weights.shape != (N_CONTEXT,):
            raise ValueError(
                f"context weights have shape {self.context_weights.shape}, expected ({N_CONTEXT},)"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")

    @property
    def vectoriser(self) -> TextVectoriser:
        if self._vectoriser is None:
            self._vectoriser = TextVectoriser(self.text)
        return self._vectoriser

    # --- scoring ---------------------------------------------------------------------

    def scorer(self) -> ConversationScorer:
        """An incremental scorer for one conversation: ``update(message)`` after each."""
        from safehold.conversation.scorer import ConversationScorer

        return ConversationScorer(self)

    def score_conversation(self, messages: Sequence[ChatMessage]) -> ConversationResult:
        """Score one conversation's messages (sorted by ``sent_at`` first)."""
        if not messages:
            raise ValueError("score_conversation needs at least one message")
        ids = {m.conversation_id for m in messages}
        if len(ids) > 1:
            raise ValueError(
                f"score_conversation got messages of {len(ids)} conversations; "
                "use score_many for several"
            )
        return self.score_many(messages)[0]

    def score_many(
        self, messages: Iterable[ChatMessage], *, per_message: bool = True
    ) -> list[ConversationResult]:
        """Score messages of any number of conversations, in any order: grouped by
        ``conversation_id`` and sorted by ``sent_at`` inside each; results in order of
        each conversation's first appearance."""
        from safehold.conversation.batch import score_batch

        return score_batch(self, list(messages), per_message=per_message)

    # --- persistence -----------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write ``model.json`` (settings, context weights, metadata) and
        ``message_weights.npz`` (the non-zero message weights) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        rows, cols = np.nonzero(self.message_weights)
        np.savez_compressed(
            directory / WEIGHTS_NPZ,
            rows=rows.astype(np.int32),
            cols=cols.astype(np.int8),
            values=self.message_weights[rows, cols].astype(np.float32),
            intercept=self.message_intercept.astype(np.float64),
        )
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "classes": list(CLASSES),
            "text": asdict(self.text),
            "context_names": list(CONTEXT_NAMES),
            "context_weights": [float(w) for w in self.context_weights],
            "context_intercept": float(self.context_intercept),
            "threshold": float(self.threshold),
            "flag_threshold": float(self.flag_threshold),
            "policy": asdict(self.policy),
            "metadata": self.metadata,
        }
        (directory / MODEL_JSON).write_text(json.dumps(document, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> RiskModel:
        """Read a model written by ``save``; clear errors for a missing or foreign one."""
        path = directory / MODEL_JSON
        weights_path = directory / WEIGHTS_NPZ
        for needed in (path, weights_path):
            if not needed.is_file():
                raise FileNotFoundError(
                    f"{needed} not found: point --model at a directory written by "
                    "`safehold conversation train --out DIR`"
                )
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc}); retrain the model") from exc
        if document.get("format") != FORMAT:
            raise ValueError(f"{path} is not a Safehold conversation risk model")
        if document.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{path} has model format version {document.get('version')}, this Safehold "
                f"reads version {FORMAT_VERSION}: retrain with `safehold conversation train`"
            )
        if document.get("context_names") != list(CONTEXT_NAMES):
            raise ValueError(f"{path} was trained with other context features; retrain it")
        text = TextFeatureConfig(**document["text"])
        with np.load(weights_path, allow_pickle=False) as data:
            weights = np.zeros((text.dimension, len(CLASSES)), dtype=np.float64)
            weights[data["rows"].astype(np.int64), data["cols"].astype(np.int64)] = data["values"]
            intercept = np.asarray(data["intercept"], dtype=np.float64)
        return cls(
            text=text,
            message_weights=weights,
            message_intercept=intercept,
            context_weights=np.asarray(document["context_weights"], dtype=np.float64),
            context_intercept=float(document["context_intercept"]),
            threshold=float(document["threshold"]),
            flag_threshold=float(document["flag_threshold"]),
            policy=WarningPolicy(**document["policy"]),
            metadata=dict(document.get("metadata", {})),
        )

    @classmethod
    def default(cls) -> RiskModel:
        """The model that ships inside the package (trained on synthetic data only)."""
        return _default_model()


@cache
def _default_model() -> RiskModel:
    package = resources.files("safehold.conversation") / "default_model"
    with resources.as_file(package) as directory:
        return RiskModel.load(Path(directory))
