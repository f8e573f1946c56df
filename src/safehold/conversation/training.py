"""Training the risk model from labelled conversations, honestly.

Why stacking with grouped folds: the conversation model must learn how much to trust the
message model on wording it has *not* seen, so it is fitted on out-of-fold message
probabilities, with folds split by phrasing family (never by message). The threshold is
chosen on out-of-fold conversation risks the same way, so nothing is tuned on the data it
is judged on. Only the adult-to-child side teaches the message model stages: children's
replies inside grooming conversations carry no stage label and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold

from safehold.conversation.batch import MINOR_BANDS, sigmoid, softmax
from safehold.conversation.context import batch_context, is_night
from safehold.conversation.features import MAX_CHARS, TextFeatureConfig, TextVectoriser
from safehold.conversation.model import CLASSES, RiskModel
from safehold.conversation.types import LabelledConversation
from safehold.conversation.warning import WarningPolicy

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

_STAGE_ALIASES = {"platform_move": "moving_platform"}
_CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}
MAX_ORDINARY_FALSE_WARNINGS = 0.003
"""Threshold search keeps out-of-fold false warnings on ordinary conversations below this
(3 per 1,000: a margin under the 5 per 1,000 target)."""


@dataclass(frozen=True)
class TrainingSettings:
    text: TextFeatureConfig = field(default_factory=TextFeatureConfig)
    message_c: float = 4.0
    context_c: float = 1.0
    flag_threshold: float = 0.5
    policy: WarningPolicy = field(default_factory=WarningPolicy)
    mask_bands_share: float = 0.25
    """Share of conversations trained with age bands hidden (so unknown bands work)."""


@dataclass
class _Table:
    """All messages of all conversations, in conversation then time order."""

    texts: list[str]
    labels: Ints
    trainable: Bools
    group: Ints
    start: Ints
    eligible: Bools
    adult: Bools
    minor: Bools
    known: Bools
    night: Bools
    new_sender: Bools
    hours: Floats


def _stage_class(stage: str, conversation_id: str) -> int:
    name = _STAGE_ALIASES.get(stage, stage)
    if name not in _CLASS_INDEX:
        raise ValueError(
            f"conversation {conversation_id}: unknown message stage {stage!r}; "
            f"expected one of {CLASSES}"
        )
    return _CLASS_INDEX[name]


def _table(conversations: Sequence[LabelledConversation], masked: Bools) -> _Table:
    texts: list[str] = []
    labels: list[int] = []
    trainable: list[bool] = []
    group: list[int] = []
    bands: list[str | None] = []
    night: list[bool] = []
    new_sender: list[bool] = []
    hours: list[float] = []
    for g, conversation in enumerate(conversations):
        stages = conversation.message_stages or ("none",) * len(conversation.messages)
        if len(stages) != len(conversation.messages):
            raise ValueError(
                f"conversation {conversation.conversation_id}: {len(stages)} stages for "
                f"{len(conversation.messages)} messages"
            )
        seen: set[str] = set()
        first = conversation.messages[0].sent_at.timestamp() if conversation.messages else 0.0
        for message, stage in zip(conversation.messages, stages, strict=True):
            true_band = message.sender_age_band
            texts.append(message.text[:MAX_CHARS])
            labels.append(_stage_class(stage, conversation.conversation_id))
            trainable.append(not (conversation.grooming and true_band in MINOR_BANDS))
            group.append(g)
            bands.append(None if masked[g] else true_band)
            night.append(is_night(message.sent_at.hour))
            new_sender.append(message.sender_id not in seen)
            seen.add(message.sender_id)
            hours.append(max((message.sent_at.timestamp() - first) / 3600.0, 0.0))
    group_array = np.asarray(group, dtype=np.int64)
    n = group_array.shape[0]
    starts = np.flatnonzero(np.r_[True, group_array[1:] != group_array[:-1]]) if n else group_array
    minor = np.asarray([b in MINOR_BANDS for b in bands], dtype=np.bool_)
    adult = np.asarray([b == "adult" for b in bands], dtype=np.bool_)
    return _Table(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        trainable=np.asarray(trainable, dtype=np.bool_),
        group=group_array,
        start=np.repeat(starts, np.diff(np.r_[starts, n])).astype(np.int64),
        eligible=~minor,
        adult=adult,
        minor=minor,
        known=adult | minor,
        night=np.asarray(night, dtype=np.bool_),
        new_sender=np.asarray(new_sender, dtype=np.bool_),
        hours=np.asarray(hours, dtype=np.float64),
    )


def _folds(conversations: Sequence[LabelledConversation], seed: int) -> list[Ints]:
    """Held-out conversation indices per fold: by phrasing family when there are at least
    three families, otherwise by conversation."""
    families = [c.family for c in conversations]
    n = len(conversations)
    index = np.arange(n)
    distinct = sorted(set(families))
    if len(distinct) >= 3:
        codes = np.asarray([distinct.index(f) for f in families])
        splitter = GroupKFold(n_splits=min(4, len(distinct)))
        return [test for _, test in splitter.split(index, groups=codes)]
    splitter_k = KFold(n_splits=3, shuffle=True, random_state=seed)
    return [test for _, test in splitter_k.split(index)]


def _fit_messages(matrix: sp.csr_matrix, labels: Ints, c: float) -> tuple[Floats, Floats]:
    """Multinomial logistic regression; weights as (features, classes) and intercepts.

    Fitted on the columns that occur in ``matrix`` only (hashed columns never seen keep weight
    zero under L2 anyway), which keeps each solver step small. A class absent from the
    data gets a very negative intercept."""
    present = np.unique(labels)
    weights = np.zeros((matrix.shape[1], len(CLASSES)), dtype=np.float64)
    intercept = np.full(len(CLASSES), -30.0)
    if present.size < 2:
        intercept[present] = 0.0
        return weights, intercept
    active = np.unique(matrix.indices)
    model = LogisticRegression(C=c, max_iter=500, tol=1e-4)
    model.fit(matrix[:, active], labels)
    coef = np.asarray(model.coef_, dtype=np.float64)
    bias = np.asarray(model.intercept_, dtype=np.float64)
    if present.size == 2:  # binary: sklearn gives one row for the second class
        coef = np.vstack([-coef[0], coef[0]]) / 2.0
        bias = np.array([-bias[0], bias[0]]) / 2.0
    weights[np.ix_(active, present)] = coef.T
    intercept[present] = bias
    return weights, intercept


def _fit_context(features: Floats, y: Floats, weight: Floats, c: float) -> tuple[Floats, float]:
    if np.unique(y).size < 2:
        raise ValueError(
            "training needs both grooming-pattern and other conversations; got only one kind"
        )
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit(features, y, sample_weight=weight)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def _choose_threshold(
    table: _Table,
    conversations: Sequence[LabelledConversation],
    flag: Bools,
    risk: Floats,
    policy: WarningPolicy,
) -> tuple[float, dict[str, float]]:
    """The threshold with the best out-of-fold F0.5 whose ordinary false-warning rate
    stays under MAX_ORDINARY_FALSE_WARNINGS."""
    truth = np.asarray([c.grooming for c in conversations])
    ordinary = np.asarray(
        [not c.grooming and not c.kind.startswith("hard_negative") for c in conversations]
    )
    starts = np.flatnonzero(np.r_[True, table.group[1:] != table.group[:-1]])
    best: tuple[float, float, dict[str, float]] | None = None
    for threshold in np.round(np.arange(0.2, 0.991, 0.01), 3):
        warn = policy.batch(table.start, flag, risk, float(threshold))
        warned = np.zeros(len(conversations), dtype=np.bool_)
        warned_groups = np.unique(table.group[warn])
        warned[warned_groups] = True
        tp = float(np.sum(warned & truth))
        precision = tp / max(float(warned.sum()), 1.0)
        recall = tp / max(float(truth.sum()), 1.0)
        f05 = 1.25 * precision * recall / max(0.25 * precision + recall, 1e-12)
        false_rate = float(np.sum(warned & ordinary)) / max(float(ordinary.sum()), 1.0)
        figures = {
            "threshold": float(threshold),
            "precision": precision,
            "recall": recall,
            "f05": f05,
            "ordinary_false_warning_rate": false_rate,
        }
        ok = false_rate <= MAX_ORDINARY_FALSE_WARNINGS
        score = f05 if ok else f05 - 1.0
        if best is None or score > best[0] + 1e-12:
            best = (score, float(threshold), figures)
    assert best is not None
    _ = starts
    return best[1], best[2]


def train(
    conversations: Sequence[LabelledConversation],
    *,
    seed: int = 0,
    settings: TrainingSettings | None = None,
    use_lexicon: bool | None = None,
) -> RiskModel:
    """Fit the message and conversation models and choose the threshold; the same
    conversations, seed and settings always give the same model. ``use_lexicon=False``
    trains without the hand-written stage lexicon (its message columns and the
    ``lexicon_stages`` context feature stay zero): the check that held-out figures do not
    rest on a lexicon written by someone who could read the generator's templates."""
    settings = settings or TrainingSettings()
    if use_lexicon is not None:
        settings = replace(settings, text=replace(settings.text, use_lexicon=use_lexicon))
    conversations = [c for c in conversations if c.messages]
    if len(conversations) < 6:
        raise ValueError(
            f"training needs at least 6 non-empty conversations, got {len(conversations)}"
        )
    rng = np.random.default_rng(seed)
    masked = rng.random(len(conversations)) < settings.mask_bands_share
    table = _table(conversations, masked)
    vectoriser = TextVectoriser(settings.text)
    features, lexicon = vectoriser.transform_with_hits(table.texts)
    features.sum_duplicates()  # canonical form for the solver and column selection

    folds = _folds(conversations, seed)
    held_out_of = np.empty(len(conversations), dtype=np.int64)
    for k, test in enumerate(folds):
        held_out_of[test] = k
    message_fold = held_out_of[table.group]
    oof = np.zeros((len(table.texts), len(CLASSES)))
    for k in range(len(folds)):
        fit_rows = (message_fold != k) & table.trainable
        w, b = _fit_messages(features[fit_rows], table.labels[fit_rows], settings.message_c)
        rows = message_fold == k
        oof[rows] = softmax(np.asarray(features[rows] @ w) + b)
    weights, intercept = _fit_messages(
        features[table.trainable], table.labels[table.trainable], settings.message_c
    )

    context, flag = batch_context(
        table.group, oof, lexicon, table.eligible, table.adult, table.minor, table.known,
        table.night, table.new_sender, table.hours, settings.flag_threshold,
    )  # fmt: skip
    y = np.asarray([conversations[g].grooming for g in table.group], dtype=np.float64)
    lengths = np.bincount(table.group).astype(np.float64)
    sample_weight = 1.0 / lengths[table.group]
    context_weights, context_intercept = _fit_context(context, y, sample_weight, settings.context_c)
    risk = np.zeros(len(table.texts))
    for k in range(len(folds)):
        rows = message_fold == k
        w_k, b_k = _fit_context(context[~rows], y[~rows], sample_weight[~rows], settings.context_c)
        risk[rows] = sigmoid(context[rows] @ w_k + b_k)
    threshold, figures = _choose_threshold(table, conversations, flag, risk, settings.policy)

    families = sorted({c.family for c in conversations})
    metadata = {
        "trained_on": "synthetic conversations only",
        "seed": seed,
        "conversations": len(conversations),
        "grooming_conversations": sum(c.grooming for c in conversations),
        "messages": len(table.texts),
        "families": families,
        "folds": "by phrasing family" if len(families) >= 3 else "by conversation",
        "settings": {
            "message_c": settings.message_c,
            "context_c": settings.context_c,
            "mask_bands_share": settings.mask_bands_share,
            "use_lexicon": settings.text.use_lexicon,
        },
        "out_of_fold_at_threshold": figures,
        "scikit_learn": sklearn.__version__,
    }
    return RiskModel(
        text=settings.text,
        message_weights=weights,
        message_intercept=intercept,
        context_weights=context_weights,
        context_intercept=context_intercept,
        threshold=threshold,
        flag_threshold=settings.flag_threshold,
        policy=settings.policy,
        metadata=metadata,
    )


def with_threshold(model: RiskModel, threshold: float) -> RiskModel:
    """A copy of ``model`` with another decision threshold."""
    return replace(model, threshold=threshold, _vectoriser=None)
