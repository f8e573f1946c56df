"""One study from pre-registration to decision: cohort, both models under grouped
cross-validation and leave-one-platform-out, intervals, the permutation test, explanations,
the fairness audit, output checks and the release gate. Returns everything the report and the
model artifact need; writes nothing itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from safehold.research.cohort import MATCH_ON, build_cohort
from safehold.research.evaluation import (
    Estimate,
    bootstrap_metrics,
    calibration,
    leave_one_platform_out,
    out_of_fold,
    person_bootstrap,
    roc_points,
    threshold_for_sensitivity,
)
from safehold.research.explain import importance, top_reasons
from safehold.research.fairness import GroupAudit, audit_group, largest_disparities
from safehold.research.features import feature_matrix
from safehold.research.gate import GateDecision, decide
from safehold.research.models import MODEL_NAMES, make_model
from safehold.research.output_checks import released_tables
from safehold.research.permutation import PermutationResult, permutation_test
from safehold.research.prereg import PreRegistration, load_prereg
from safehold.research.world_data import load_study_inputs

STEPS = (
    "pre-registration",
    "cohort",
    "models",
    "permutation test",
    "explanations",
    "fairness audit",
    "output checks",
    "release gate",
)
NO_SIGNAL = "no distinctive signal"
TOO_DIFFUSE = "a signal, but too diffuse to be useful"
USEFUL = "a signal useful at the stated prevalence"
Progress = Callable[[str], None]


@dataclass
class StudyResult:
    prereg: PreRegistration
    prereg_sha256: str
    summary: dict[str, Any]
    gate: GateDecision
    model: Any  # the primary model fitted on the whole cohort
    threshold: float


def _pretty_groups(frame: pl.DataFrame) -> pl.DataFrame:
    quintile = pl.col("deprivation_quintile")
    return frame.with_columns(
        pl.when(quintile == 1)
        .then(pl.lit("1 (most deprived)"))
        .when(quintile == 5)
        .then(pl.lit("5 (least deprived)"))
        .otherwise(quintile.cast(pl.String))
        .fill_null("unknown")
        .alias("deprivation_quintile")
    )


def _verdict(permutation: PermutationResult, ppv: Estimate, prereg: PreRegistration) -> str:
    if permutation.p_value >= prereg.alpha:
        return NO_SIGNAL
    return USEFUL if ppv.low >= prereg.minimum_ppv else TOO_DIFFUSE


def run_study(world: Path, prereg_path: Path, progress: Progress | None = None) -> StudyResult:
    step = progress or (lambda _name: None)
    step("pre-registration")
    prereg, sha = load_prereg(prereg_path)
    step("cohort")
    inputs = load_study_inputs(world, prereg.outcome, prereg.seed)
    cohort = build_cohort(inputs.accounts, prereg.control_ratio, prereg.folds, prereg.seed)
    frame = _pretty_groups(cohort.frame)
    x = feature_matrix(frame, prereg.features)
    y = frame["label"].to_numpy().astype(np.int64)
    groups = frame["person"].to_numpy()
    platforms = frame["platform"].to_numpy()

    step("models")
    models: dict[str, Any] = {}
    scores: dict[str, Any] = {}
    for name in MODEL_NAMES:
        oof = out_of_fold(name, x, y, groups, prereg.folds, prereg.seed)
        threshold = threshold_for_sensitivity(y, oof, prereg.operating_sensitivity)
        metrics = bootstrap_metrics(
            y, oof, groups, threshold, prereg.prevalence, prereg.bootstrap, prereg.seed
        )
        scores[name] = oof
        models[name] = {
            "threshold": threshold,
            "metrics": {k: v.to_json() for k, v in metrics.items()},
            "_metrics": metrics,
            "leave_one_platform_out_auroc": leave_one_platform_out(
                name, x, y, platforms, prereg.seed
            ),
            "calibration": calibration(y, oof),
            "roc": roc_points(y, oof),
        }
    primary = models[prereg.primary_model]
    primary_scores = scores[prereg.primary_model]
    flags = primary_scores >= primary["threshold"]

    step("permutation test")
    permutation = permutation_test(x, y, groups, prereg.folds, prereg.permutations, prereg.seed)

    step("explanations")
    fitted = make_model(prereg.primary_model, prereg.seed).fit(x, y)
    ranked = importance(fitted, x, prereg.features)
    top = np.argsort(-primary_scores)[:5]
    examples = [
        {
            "subject": str(frame["subject"][int(i)]),
            "score": round(float(primary_scores[i]), 4),
            "reasons": r,
        }
        for i, r in zip(top, top_reasons(fitted, x[top], prereg.features), strict=True)
    ]

    step("fairness audit")
    weights = person_bootstrap(groups, prereg.bootstrap, prereg.seed + 2)
    audits: list[GroupAudit] = [
        audit_group(
            frame,
            column,
            y,
            flags,
            primary_scores,
            prereg.prevalence,
            prereg.minimum_group_size,
            weights,
        )
        for column in prereg.fairness_groups
    ]
    del weights
    disparities = largest_disparities(audits)

    step("output checks")
    tables, _ledger = released_tables(frame, [*MATCH_ON, "deprivation_quintile"])

    step("release gate")
    ppv = primary["_metrics"]["ppv_at_prevalence"]
    gate = decide(prereg, permutation, ppv, audits)
    verdict = _verdict(permutation, ppv, prereg)
    for m in models.values():
        m.pop("_metrics")
    summary: dict[str, Any] = {
        "title": prereg.title,
        "question": prereg.question,
        "prereg": prereg.model_dump(mode="json"),
        "prereg_sha256": sha,
        "world": str(world),
        "linkage": inputs.linkage,
        "verdict": verdict,
        "cohort": {
            "case_accounts": cohort.cases,
            "control_accounts": cohort.controls,
            "people": cohort.people,
            "matched_on": list(MATCH_ON),
            "control_ratio": prereg.control_ratio,
            "strata_short_of_controls": cohort.short_strata,
        },
        "models": models,
        "primary_model": prereg.primary_model,
        "permutation_test": {
            "model": "logistic",
            "observed_auroc": round(permutation.observed_auroc, 4),
            "null_mean_auroc": round(permutation.null_mean, 4),
            "null_95th_percentile": round(permutation.null_95th, 4),
            "permutations": permutation.permutations,
            "p_value": round(permutation.p_value, 4),
            "rejects": permutation.p_value < prereg.alpha,
        },
        "feature_importance": {"method": "mean |SHAP| on the log-odds scale", "features": ranked},
        "example_reasons": examples,
        "fairness": {
            "threshold_model": prereg.primary_model,
            "priority_measure": prereg.fairness_priority.value,
            "groups": {a.column: a.to_json() for a in audits},
            "largest_disparities": [d.to_json() for d in disparities[:5]],
        },
        "released_tables": tables,
        "gate": gate.to_json(),
    }
    return StudyResult(
        prereg=prereg, prereg_sha256=sha, summary=summary, gate=gate, model=fitted,
        threshold=float(primary["threshold"]),
    )  # fmt: skip
