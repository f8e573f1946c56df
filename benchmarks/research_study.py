"""Wall time and peak memory of the research study's steps on a large cohort table.

Ours: person-grouped folds, out-of-fold logistic regression and LightGBM, person-level
bootstrap intervals, the permutation test (few shuffles here; its cost is linear in them)
and the fairness audit over four group columns. Baselines on the same table: scikit-learn's
``StratifiedGroupKFold`` beside our fold assignment, and fairlearn's own bootstrap in
``MetricFrame`` beside our person-level bootstrap for one group column: the measured
reasons we use our own. The cohort is drawn directly (numpy) with a planted mean shift,
since a synthetic world of this many subjects takes far longer to generate than to study.
Linkage is not benchmarked: Splink linkage is not built yet.

    python benchmarks/research_study.py [--subjects 1000000] [--features 50] [--permutations 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from fairlearn.metrics import MetricFrame, false_positive_rate
from rich.console import Console
from rich.table import Table
from sklearn.model_selection import StratifiedGroupKFold

from safehold.research.evaluation import (
    bootstrap_metrics,
    grouped_folds,
    out_of_fold,
    person_bootstrap,
    threshold_for_sensitivity,
)
from safehold.research.fairness import audit_group
from safehold.research.permutation import permutation_test


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(
    rows: list[tuple[str, str, float, float]], who: str, name: str, action: Callable[[], Any]
) -> Any:
    started = time.perf_counter()
    result = action()
    rows.append((who, name, time.perf_counter() - started, _peak_mb()))
    return result


def _cohort(
    subjects: int, features: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    people = int(subjects / 1.3)
    person = np.sort(rng.integers(0, people, subjects))
    case_person = rng.random(people) < 1 / 11
    y = case_person[person].astype(np.int64)
    x = rng.standard_normal((subjects, features))
    x[y == 1, : features // 2] += 0.15
    groups = pl.DataFrame(
        {
            "deprivation_quintile": rng.integers(1, 6, people)[person].astype(str),
            "sex": np.where(rng.random(people) < 0.5, "female", "male")[person],
            "age_band": rng.choice(["18_24", "25_34", "35_44", "45_54", "55_64"], people)[person],
            "size_band": rng.choice(["large", "medium", "small"], subjects, p=[0.55, 0.3, 0.15]),
        }
    )
    return x, y, person, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--permutations", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    console = Console()
    rows: list[tuple[str, str, float, float]] = []
    x, y, person, groups = _timed(
        rows, "setup", "draw cohort", lambda: _cohort(args.subjects, args.features, args.seed)
    )
    folds = 5
    _timed(rows, "ours", "grouped folds", lambda: grouped_folds(y, person, folds, args.seed))
    lr = _timed(
        rows,
        "ours",
        "out-of-fold logistic",
        lambda: out_of_fold("logistic", x, y, person, folds, args.seed),
    )
    _timed(
        rows,
        "ours",
        "out-of-fold LightGBM",
        lambda: out_of_fold("lightgbm", x, y, person, folds, args.seed),
    )
    threshold = threshold_for_sensitivity(y, lr, 0.5)
    _timed(
        rows,
        "ours",
        f"bootstrap x{args.bootstrap}",
        lambda: bootstrap_metrics(y, lr, person, threshold, 0.005, args.bootstrap, args.seed),
    )
    perm = _timed(
        rows, "ours", f"permutation test x{args.permutations}",
        lambda: permutation_test(x, y, person, folds, args.permutations, args.seed),
    )  # fmt: skip
    flags = lr >= threshold
    fair_boot = min(args.bootstrap, 50)
    weights = _timed(
        rows,
        "ours",
        f"person bootstrap weights x{fair_boot}",
        lambda: person_bootstrap(person, fair_boot, args.seed),
    )
    for column in groups.columns:
        _timed(
            rows,
            "ours",
            f"fairness audit: {column}",
            lambda c=column, w=weights: audit_group(groups, c, y, flags, lr, 0.005, 30, w),
        )
    del weights
    _timed(
        rows,
        "baseline",
        "StratifiedGroupKFold",
        lambda: list(
            StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(x[:, :1], y, person)
        ),
    )
    values = groups["deprivation_quintile"].to_numpy()

    def fairlearn_bootstrap() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MetricFrame(metrics={"fpr": false_positive_rate}, y_true=y, y_pred=flags.astype(int),
                        sensitive_features=values, n_boot=fair_boot, ci_quantiles=[0.025, 0.975], random_state=0)  # fmt: skip

    _timed(
        rows,
        "baseline",
        f"fairlearn MetricFrame bootstrap x{fair_boot} (FPR, one column)",
        fairlearn_bootstrap,
    )

    table = Table(title=f"Research study on {args.subjects:,} subjects x {args.features} features")
    for header in ("who", "step", "seconds", "peak RSS MB (process so far)"):
        table.add_column(header)
    for who, name, seconds, peak in rows:
        table.add_row(who, name, f"{seconds:.2f}", f"{peak:,.0f}")
    console.print(table)
    per_permutation = next(s for w, n, s, _ in rows if n.startswith("permutation")) / (
        args.permutations + 1
    )
    study = sum(s for w, _, s, _ in rows if w == "ours")
    figures = {
        "subjects": args.subjects,
        "features": args.features,
        "ours_study_seconds": round(study, 1),
        "ours_seconds_per_permutation": round(per_permutation, 2),
        "ours_study_seconds_with_99_permutations": round(
            study + per_permutation * (99 - args.permutations), 1
        ),
        "peak_rss_mb": round(max(p for *_, p in rows), 0),
        "observed_auroc": round(perm.observed_auroc, 4),
        **{f"{w}:{n}": round(s, 2) for w, n, s, _ in rows if w != "setup"},
    }
    print(json.dumps({"benchmark": "research_study", "figures": figures}))


if __name__ == "__main__":
    main()
