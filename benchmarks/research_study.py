"""Wall time and peak memory of the research study's steps on a large cohort table.

Ours: person-grouped folds, out-of-fold logistic regression and LightGBM, person-level
bootstrap intervals, the permutation test (few shuffles here; its cost is linear in them)
and the fairness audit over four group columns. Baselines on the same table: scikit-learn's
``StratifiedGroupKFold`` beside our fold assignment, and fairlearn's own bootstrap in
``MetricFrame`` beside our person-level bootstrap for one group column: the measured
reasons we use our own. The cohort is drawn directly (numpy) with a planted mean shift,
since a synthetic world of this many subjects takes far longer to generate than to study.
Linkage: 100,000 justice records to 5,000,000 platform subjects (drawn directly, see
``linkage_inputs``), our Splink linkage beside the exact-pseudonym join, with the precision
and recall of each against the drawn truth. Peak memory is the process's peak so far.

    python benchmarks/research_study.py [--subjects 1000000] [--features 50] [--permutations 3]
        [--part study|linkage|both] [--link-records 100000] [--link-subjects 5000000]
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
import numpy.typing as npt
import polars as pl
import pyarrow as pa
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
from safehold.research.linkage import LinkageSettings, link_labels
from safehold.research.linkage_eval import account_quality, exact_pseudonym_links, pair_quality
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


# --- linkage: justice records to platform subjects -------------------------------------

_Array = npt.NDArray[Any]


def _masks(rng: np.random.Generator, n: int, bits: int) -> _Array:
    """n random 1024-bit masks (16 uint64 words each) with about ``bits`` bits set."""
    out = np.zeros((n, 1024), dtype=bool)
    out[np.repeat(np.arange(n), bits), rng.integers(0, 1024, n * bits)] = True
    return np.packbits(out, axis=1).view(np.uint64)


def _misspelt(rng: np.random.Generator, masks: _Array, share: float) -> _Array:
    """Masks with about ``share`` of their bits moved elsewhere (a misspelt name)."""
    bits = np.unpackbits(masks.view(np.uint8), axis=1).astype(bool)
    kept = bits & (rng.random(bits.shape) >= share)
    added = rng.random(bits.shape) < share * bits.mean(axis=1, keepdims=True)
    return np.packbits(kept | added, axis=1).view(np.uint64)


def _clks(words: _Array, present: _Array) -> pl.Series:
    raw = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(128), len(words), [None, pa.py_buffer(np.ascontiguousarray(words).tobytes())]
    ).cast(pa.binary())
    series = pl.Series(pl.from_arrow(raw)).bin.encode("base64")
    return pl.select(pl.when(pl.Series(present)).then(series)).to_series().alias("clk")


def _keys(name: str, values: _Array, present: _Array) -> pl.Series:
    series = pl.Series(values).cast(pl.String)
    return pl.select(pl.when(pl.Series(present)).then(series)).to_series().alias(name)


def _dob_words(digit_pool: _Array, days: _Array) -> _Array:
    """Positional date-digit tokens (YYYYMMDD) ORed, as the person schema encodes a DOB."""
    text = (np.datetime64("1940-01-01") + days.astype("timedelta64[D]")).astype("U10")
    digits = np.char.replace(text, "-", "").view("U1").reshape(-1, 8).astype(np.int64)
    index = np.arange(8) * 10 + digits
    out = digit_pool[index[:, 0]].copy()
    for k in range(1, 8):
        out |= digit_pool[index[:, k]]
    return out


def linkage_inputs(
    records: int, subjects: int, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(labels, accounts, true pairs), drawn directly (a world of 5M accounts takes far
    longer to generate and CLK-encode than to link): names from pools of 2,000 given and
    20,000 family names drawn with weight 1/(rank + 10) (the commonest about 1.7% and 1.2%), dates of birth over 70 years, CLKs as the OR of
    per-token random masks (about 150 bits per name, 12 per date digit); one to three
    platforms per person, one account on each, with the synthetic world's shares of names,
    dates, emails and phones given; records held by one to three agencies with its rates
    of missing, outdated and misspelt identifiers."""
    rng = np.random.default_rng(seed)
    given_pool, family_pool = _masks(rng, 2_000, 160), _masks(rng, 20_000, 160)
    digit_pool = _masks(rng, 80, 12)
    people = int(subjects / 1.5) + 10  # 1.6 accounts each on average: enough for all
    given, family = (
        rng.choice(size, size=people, p=(w := 1 / (np.arange(size) + 11.0)) / w.sum())
        for size in (2_000, 20_000)
    )
    dob = rng.integers(0, 70 * 365, people)
    per_person = rng.choice(3, size=people, p=[0.55, 0.3, 0.15]) + 1
    person = np.repeat(np.arange(people), per_person)[:subjects]
    platform = np.argsort(rng.random((people, 3)), axis=1)
    rank = (
        np.arange(person.size)
        - np.repeat(np.cumsum(per_person) - per_person, per_person)[:subjects]
    )
    platform = platform[person, rank]
    name, born = rng.random(subjects) < 0.7, rng.random(subjects) < 0.8
    words = _dob_words(digit_pool, dob[person]) * born[:, None]
    words |= (given_pool[given[person]] | family_pool[family[person]]) * name[:, None]
    accounts = pl.DataFrame(
        [
            pl.Series("account", np.arange(subjects)).cast(pl.String),
            pl.Series("platform", platform).cast(pl.String),
            _keys("email_key", person, rng.random(subjects) < 0.75),
            _keys("phone_key", person, rng.random(subjects) < 0.45),
            _clks(words, name | born),
        ]
    )
    del words
    known = rng.choice(people, size=int(records / 2.5) + 1, replace=False)
    held = [np.ones(known.size, bool), rng.random(known.size) < 0.9, rng.random(known.size) < 0.6]
    who = np.concatenate([known[h] for h in held])[:records]
    source = np.concatenate([np.full(int(h.sum()), k) for k, h in enumerate(held)])[:records]
    n = who.size
    given_words = given_pool[given[who]]
    typo = rng.random(n) < 0.15
    given_words[typo] = _misspelt(rng, given_words[typo], 0.3)
    shifted = np.where(rng.random(n) < 0.05, dob[who] + rng.integers(-40, 41, n), dob[who])
    record_words = given_words | family_pool[family[who]] | _dob_words(digit_pool, shifted)
    stale = -1 - np.arange(n)  # an outdated identifier: nobody's current one
    labels = pl.DataFrame(
        [
            pl.Series("label_id", np.arange(n)).cast(pl.String),
            pl.Series("source", source).cast(pl.String),
            _keys("email_key", np.where(rng.random(n) < 0.25, stale, who), rng.random(n) < 0.6),
            _keys("phone_key", np.where(rng.random(n) < 0.2, stale, who), rng.random(n) < 0.75),
            _clks(record_words, np.ones(n, bool)),
        ]
    )
    truth = (
        pl.DataFrame({"label_id": labels["label_id"], "person": who})
        .join(pl.DataFrame({"account": accounts["account"], "person": person}), on="person")
        .select("label_id", "account")
    )
    return labels, accounts, truth


def linkage_benchmark(
    records: int, subjects: int, seed: int, memory: str, console: Console
) -> dict[str, float | int]:
    """Ours (Splink) beside the exact-pseudonym join, on the same drawn inputs."""
    rows: list[tuple[str, str, float, float]] = []
    labels, accounts, truth = _timed(
        rows, "setup", f"draw {records:,} records and {subjects:,} subjects",
        lambda: linkage_inputs(records, subjects, seed),
    )  # fmt: skip
    baseline = _timed(
        rows, "baseline", "exact pseudonym join", lambda: exact_pseudonym_links(labels, accounts)
    )
    linkage = _timed(
        rows, "ours", "Splink link (train u/m, block, score, assign)",
        lambda: link_labels(labels, accounts, LinkageSettings(seed=seed, memory_limit=memory)),
    )  # fmt: skip
    ours_q = account_quality(linkage.links, truth), pair_quality(linkage.links, truth)
    base_q = account_quality(baseline, truth), pair_quality(baseline, truth)
    table = Table(
        title=f"Linking {labels.height:,} justice records to {subjects:,} platform subjects"
    )
    for header in (
        "who",
        "step",
        "seconds",
        "peak RSS MB (process so far)",
        "pair P / R",
        "case-account P / R",
    ):
        table.add_column(header)
    quality = {"baseline": base_q, "ours": ours_q}
    for who, name, seconds, peak in rows:
        q = quality.get(who)
        pr = (
            (
                f"{q[1].precision:.3f} / {q[1].recall:.3f}",
                f"{q[0].precision:.3f} / {q[0].recall:.3f}",
            )
            if q
            else ("", "")
        )
        table.add_row(who, name, f"{seconds:.1f}", f"{peak:,.0f}", *pr)
    console.print(table)
    seconds = {w: s for w, _n, s, _p in rows}
    peaks = {w: p for w, _n, _s, p in rows}
    return {
        "linkage_records": labels.height,
        "linkage_subjects": subjects,
        "linkage_possible_pairs": linkage.possible_pairs,
        "linkage_label_chunks": linkage.blocking["label_chunks"],
        "linkage_ours_seconds": round(seconds["ours"], 1),
        "linkage_baseline_seconds": round(seconds["baseline"], 1),
        "linkage_peak_rss_mb_after_ours": round(peaks["ours"], 0),
        "linkage_peak_rss_mb_after_baseline": round(peaks["baseline"], 0),
        "linkage_ours_pair_precision": round(ours_q[1].precision, 4),
        "linkage_ours_pair_recall": round(ours_q[1].recall, 4),
        "linkage_ours_case_account_precision": round(ours_q[0].precision, 4),
        "linkage_ours_case_account_recall": round(ours_q[0].recall, 4),
        "linkage_baseline_pair_precision": round(base_q[1].precision, 4),
        "linkage_baseline_pair_recall": round(base_q[1].recall, 4),
        "linkage_baseline_case_account_recall": round(base_q[0].recall, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--permutations", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--link-records", type=int, default=100_000)
    parser.add_argument("--link-subjects", type=int, default=5_000_000)
    parser.add_argument("--link-memory", default="6GB", help="DuckDB memory limit for linkage")
    parser.add_argument(
        "--part", choices=("study", "linkage", "both"), default="both",
        help="the study's steps, the linkage, or both (each in its own table)",
    )  # fmt: skip
    args = parser.parse_args()
    console = Console()
    linkage: dict[str, float | int] = {}
    if args.part != "study":
        linkage = linkage_benchmark(
            args.link_records, args.link_subjects, args.seed, args.link_memory, console
        )
    if args.part == "linkage":
        print(json.dumps({"benchmark": "research_study", "figures": linkage}))
        return
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
        **linkage,
    }
    print(json.dumps({"benchmark": "research_study", "figures": figures}))


if __name__ == "__main__":
    main()
