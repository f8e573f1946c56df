"""How many messages per second the default conversation risk model scores on one core.

Ours: ``RiskModel.score_many`` (batch: one numpy hashing pass for word and character
n-grams, one regex scan for the lexicon, sparse products, segmented numpy context) and
``RiskModel.scorer().update`` (incremental, one message at a time). Baselines in the same
process, on the same messages: a plain regex scan of the stage lexicon, the word
``HashingVectorizer`` alone, and scikit-learn's way of building the same feature blocks
(word 1-2-grams and character 3-5-grams with two ``HashingVectorizer``s) beside our
feature step alone: the measured reason the features are hashed with numpy. Two streams: the synthetic mix (30% grooming-pattern
conversations, so many need evidence) and ordinary conversations only (a platform's usual
traffic). The process is pinned to one core and BLAS/polars threads are limited to one.

    python benchmarks/conversation.py [--conversations 6000]
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sklearn.feature_extraction.text import HashingVectorizer  # noqa: E402

from safehold.cli.conversation_data import synthetic_conversations  # noqa: E402
from safehold.conversation.lexicon import find_phrases  # noqa: E402
from safehold.conversation.model import RiskModel  # noqa: E402
from safehold.conversation.types import ChatMessage  # noqa: E402


def _best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def _incremental(model: RiskModel, messages: list[ChatMessage]) -> None:
    scorers: dict[str, object] = {}
    for message in messages:
        scorer = scorers.get(message.conversation_id)
        if scorer is None:
            scorer = scorers[message.conversation_id] = model.scorer()
        scorer.update(message)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    model = RiskModel.default()
    data = synthetic_conversations(args.conversations, seed=20_260)
    mixed = [m for c in data for m in sorted(c.messages, key=lambda m: m.sent_at)]
    ordinary = [
        m for c in data if not c.grooming and not c.kind.startswith("hard_negative")
        for m in c.messages
    ]  # fmt: skip
    texts = [m.text for m in mixed]
    model.score_many(mixed[:200])  # warm up

    rate: dict[str, float] = {}
    rate["batch_mixed"] = len(mixed) / _best_of(
        args.runs, lambda: model.score_many(mixed, per_message=False)
    )
    rate["batch_mixed_with_per_message"] = len(mixed) / _best_of(
        args.runs, lambda: model.score_many(mixed)
    )
    unknown = [replace(m, sender_age_band=None) for m in mixed]  # every message is read
    rate["batch_mixed_bands_unknown"] = len(unknown) / _best_of(
        args.runs, lambda: model.score_many(unknown, per_message=False)
    )
    rate["batch_ordinary"] = len(ordinary) / _best_of(
        args.runs, lambda: model.score_many(ordinary, per_message=False)
    )
    sample = mixed[: max(1, len(mixed) // 10)]
    rate["incremental_mixed"] = len(sample) / _best_of(1, lambda: _incremental(model, sample))
    rate["baseline_lexicon_regex_scan"] = len(texts) / _best_of(
        args.runs, lambda: [find_phrases(t) for t in texts]
    )
    word = HashingVectorizer(n_features=1 << 18, ngram_range=(1, 2), alternate_sign=False)
    rate["baseline_word_hashing_only"] = len(texts) / _best_of(
        args.runs, lambda: word.transform(texts)
    )
    chars = HashingVectorizer(
        n_features=1 << 17, analyzer="char", ngram_range=(3, 5), alternate_sign=False
    )
    rate["ours_features_only"] = len(texts) / _best_of(
        args.runs, lambda: model.vectoriser.transform(texts)
    )
    rate["baseline_sklearn_word_and_char_hashing"] = len(texts) / _best_of(
        args.runs, lambda: (word.transform(texts), chars.transform(texts))
    )

    figures: dict[str, object] = {
        "messages_mixed": len(mixed),
        "messages_ordinary": len(ordinary),
        "cores": 1,
        **{f"{k}_per_s": round(v) for k, v in rate.items()},
        "goal_batch_per_s": 50_000,
    }
    table = Table(title=f"conversation scoring, one core ({len(mixed):,} messages)")
    table.add_column("method")
    table.add_column("messages/s", justify="right")
    labels = {
        "batch_mixed": "ours: score_many, synthetic mix",
        "batch_mixed_with_per_message": "ours: score_many, mix, per-message scores kept",
        "batch_mixed_bands_unknown": "ours: score_many, mix, no age bands (all read)",
        "batch_ordinary": "ours: score_many, ordinary conversations only",
        "incremental_mixed": "ours: scorer().update, one message at a time",
        "baseline_lexicon_regex_scan": "baseline: lexicon regex scan per message",
        "baseline_word_hashing_only": "baseline: word HashingVectorizer alone",
        "ours_features_only": "ours: feature rows only (numpy word+char+lexicon)",
        "baseline_sklearn_word_and_char_hashing": "baseline: sklearn word+char HashingVectorizer",
    }
    for key, label in labels.items():
        table.add_row(label, f"{rate[key]:,.0f}")
    Console().print(table)
    print(json.dumps({"benchmark": "conversation", "figures": figures}))


if __name__ == "__main__":
    main()
