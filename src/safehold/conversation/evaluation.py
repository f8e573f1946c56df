"""Honest evaluation of the conversation risk model: train on some phrasing families, score
conversations written only in the others, and report the figures with bootstrap intervals.

Why by family: a model trained and tested on the same phrasing looks perfect and then fails
on new wording, so whole phrasing families (each with its own templates) are held out,
never single messages or conversations. The model is reached only through the small
protocols below, so this module works with any scorer (and with a fake one in tests).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from safehold.conversation.evaluation_metrics import (
    Estimate,
    Outcome,
    estimate_all,
    judge_targets,
)
from safehold.conversation.types import ChatMessage, ConversationResult, LabelledConversation

HARM_STAGE = "meeting"
"""The ground-truth stage at which harm is near: a warning before it is still early."""


SETTINGS: tuple[str, ...] = ("flag_threshold", "policy", "text", "metadata")
"""Model attributes copied into the report when present (anything else stays private)."""


class Scorer(Protocol):
    """What evaluation needs of a trained model."""

    @property
    def threshold(self) -> float: ...

    def score_many(self, messages: Iterable[ChatMessage]) -> list[ConversationResult]: ...


class Trainer(Protocol):
    """Trains a scorer on labelled conversations (``safehold.conversation.model.train``)."""

    def __call__(
        self, conversations: Sequence[LabelledConversation], /, *, seed: int
    ) -> Scorer: ...


@dataclass(frozen=True)
class Fold:
    """One split: train on ``train_families``, score conversations in ``test_families``."""

    index: int
    train_families: tuple[str, ...]
    test_families: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "fold": self.index,
            "train_families": list(self.train_families),
            "test_families": list(self.test_families),
        }


@dataclass(frozen=True)
class FoldRun:
    fold: Fold
    outcomes: tuple[Outcome, ...]
    train_count: int
    model: dict[str, Any]
    """The trained model's settings (class, threshold, anything it reports)."""
    outcomes_without_ages: tuple[Outcome, ...] = ()
    """The same test set scored with every sender age band hidden (a robustness check)."""


def families_of(conversations: Iterable[LabelledConversation]) -> tuple[str, ...]:
    """The phrasing families present in the data, sorted."""
    return tuple(sorted({c.family for c in conversations}))


def family_splits(families: Sequence[str], hold_out: int = 2) -> list[Fold]:
    """Leave-``hold_out``-families-out folds: consecutive groups of ``families`` are held out
    in turn, so every family is tested exactly once and never trained on in its own fold."""
    names = tuple(dict.fromkeys(families))
    if hold_out < 1 or hold_out >= len(names):
        raise ValueError(
            f"cannot hold out {hold_out} of {len(names)} phrasing families {names}: "
            "hold out at least 1 and leave at least 1 to train on"
        )
    folds: list[Fold] = []
    for i, start in enumerate(range(0, len(names), hold_out)):
        test = names[start : start + hold_out]
        folds.append(Fold(i, tuple(f for f in names if f not in test), test))
    return folds


def single_split(families: Sequence[str], test_families: Sequence[str]) -> Fold:
    """One fold holding out ``test_families`` (for example from ``--test-families``)."""
    names = tuple(dict.fromkeys(families))
    test = tuple(dict.fromkeys(test_families))
    unknown = sorted(set(test) - set(names))
    if unknown:
        raise ValueError(f"unknown test families {unknown}; expected some of {names}")
    train = tuple(f for f in names if f not in test)
    if not test or not train:
        raise ValueError(f"test families {test} must be a non-empty, proper subset of {names}")
    return Fold(0, train, test)


def check_split(
    fold: Fold,
    train: Sequence[LabelledConversation],
    test: Sequence[LabelledConversation],
) -> None:
    """Refuse a leaky split: a family on the wrong side, or one conversation on both."""
    for side, conversations, allowed in (
        ("training", train, fold.train_families),
        ("test", test, fold.test_families),
    ):
        wrong = sorted({c.family for c in conversations} - set(allowed))
        if wrong:
            raise ValueError(
                f"fold {fold.index}: {side} set has conversations in families {wrong}, "
                f"but only {list(allowed)} belong there; generate it with those families"
            )
    shared = {c.conversation_id for c in train} & {c.conversation_id for c in test}
    if shared:
        raise ValueError(
            f"fold {fold.index}: {len(shared)} conversations are in both sets "
            f"(for example {sorted(shared)[0]!r}); generate them with different seeds"
        )


def _harm_message(conversation: LabelledConversation, harm_stage: str) -> int:
    stages = conversation.message_stages
    return next((i for i, s in enumerate(stages) if s == harm_stage), len(conversation.messages))


def score_held_out(
    model: Scorer,
    conversations: Sequence[LabelledConversation],
    fold: int = 0,
    harm_stage: str = HARM_STAGE,
    *,
    hide_ages: bool = False,
) -> list[Outcome]:
    """Score every conversation in one batch and pair each result with its truth;
    ``hide_ages`` drops every sender age band first (platforms often do not know them)."""
    messages = (m for c in conversations for m in c.messages)
    if hide_ages:
        messages = (dataclasses.replace(m, sender_age_band=None) for m in messages)
    results = model.score_many(messages)
    by_id = {r.conversation_id: r for r in results}
    outcomes: list[Outcome] = []
    for c in conversations:
        result = by_id.get(c.conversation_id)
        if result is None and c.messages:
            raise ValueError(
                f"the model returned no result for conversation {c.conversation_id!r} "
                f"({len(c.messages)} messages); score_many must return one per conversation"
            )
        outcomes.append(
            Outcome(
                conversation_id=c.conversation_id,
                fold=fold,
                family=c.family,
                kind=c.kind,
                grooming=c.grooming,
                risk=result.risk if result else 0.0,
                flagged=result is not None and result.label == "risk",
                messages_to_warning=result.messages_to_warning if result else None,
                first_grooming_message=c.first_grooming_message,
                harm_message=_harm_message(c, harm_stage),
                n_messages=len(c.messages),
            )
        )
    return outcomes


def model_settings(model: Scorer) -> dict[str, Any]:
    """What the report says about the model: its class, threshold and the settings it
    exposes (warning policy, flag threshold, feature settings, metadata) when it has them."""
    out: dict[str, Any] = {"class": type(model).__name__, "threshold": float(model.threshold)}
    for name in SETTINGS:
        value = getattr(model, name, None)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if value is not None:
            out[name] = _json_safe(value)
    return out


def _json_safe(value: object) -> object:
    """Plain JSON values (numbers, strings, lists, maps); NaN becomes None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return repr(value)


def run_fold(
    trainer: Trainer,
    fold: Fold,
    train: Sequence[LabelledConversation],
    test: Sequence[LabelledConversation],
    *,
    seed: int = 0,
) -> FoldRun:
    """Check the split, train on ``train``, score ``test``."""
    check_split(fold, train, test)
    model = trainer(train, seed=seed)
    outcomes = score_held_out(model, test, fold.index)
    blind = score_held_out(model, test, fold.index, hide_ages=True)
    return FoldRun(fold, tuple(outcomes), len(train), model_settings(model), tuple(blind))


def _counts(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for o in outcomes:
        kinds[o.kind] = kinds.get(o.kind, 0) + 1
    return {
        "conversations": len(outcomes),
        "grooming": sum(o.grooming for o in outcomes),
        "ordinary": sum(o.ordinary for o in outcomes),
        "hard_negative": sum(o.hard_negative for o in outcomes),
        "flagged": sum(o.flagged for o in outcomes),
        "messages": sum(o.n_messages for o in outcomes),
        "by_kind": dict(sorted(kinds.items())),
    }


def _figures(estimates: Mapping[str, Estimate]) -> dict[str, Any]:
    return {name: e.as_dict() for name, e in estimates.items()}


def summarise(runs: Sequence[FoldRun], *, resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The evaluation report (JSON-ready): pooled held-out figures with 95% bootstrap
    intervals, the same per test family and per fold, counts, the split, the targets, and
    the pooled figures again with sender age bands hidden."""
    pooled = [o for r in runs for o in r.outcomes]
    overall = estimate_all(pooled, resamples=resamples, seed=seed)
    blind = [o for r in runs for o in r.outcomes_without_ages]
    per_family: dict[str, Any] = {}
    for i, family in enumerate(sorted({o.family for o in pooled})):
        subset = [o for o in pooled if o.family == family]
        per_family[family] = {
            "counts": _counts(subset),
            "figures": _figures(estimate_all(subset, resamples=resamples, seed=seed + 1 + i)),
        }
    per_fold = [
        {
            **r.fold.as_dict(),
            "train_conversations": r.train_count,
            "model": r.model,
            "counts": _counts(r.outcomes),
            "figures": _figures(
                estimate_all(r.outcomes, resamples=resamples, seed=seed + 101 + r.fold.index)
            ),
        }
        for r in runs
    ]
    return {
        "split": {
            "method": "whole phrasing families held out; every participant of a test "
            "conversation writes only in the test families",
            "folds": [r.fold.as_dict() for r in runs],
        },
        "bootstrap": {
            "resamples": resamples,
            "seed": seed,
            "interval": "percentile 95%, conversations resampled with replacement",
        },
        "counts": _counts(pooled),
        "figures": _figures(overall),
        "targets": judge_targets(overall),
        "figures_without_age_bands": (
            _figures(estimate_all(blind, resamples=resamples, seed=seed)) if blind else None
        ),
        "per_family": per_family,
        "per_fold": per_fold,
    }
