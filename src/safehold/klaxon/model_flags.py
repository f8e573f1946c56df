"""A released model's scores as klaxon flags, and the model's part in each alert.

Why here: a member scores its own accounts with ``safehold member score`` (the model runs on
the member's side); the accounts the model flags for review become sender flags of source
``model`` (band ``high``), and the model's version goes into the flags manifest. When an
alert's flagged-sender rule fired because of such a flag, the alert carries the model's band,
score, reasons and version to the hub, so that a reviewer sees why and monitoring can tell
each model version's precision against its pre-registered figure."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from safehold.klaxon.flags import FlagSet
from safehold.klaxon.rules import FlaggedSenderRule, RuleSet

FLAGGED_BAND = "flag for review"
"""The band ``member score`` gives an account whose score reaches the model's threshold."""
MODEL_FLAG_BAND = "high"
"""The klaxon band such an account gets (the default rules fire on it)."""
SCORE_COLUMNS = ("account_id", "score", "band", "reasons", "model_version")

MODEL_CONTEXT = pl.Struct(
    {
        "band": pl.Utf8(),
        "score": pl.Float64(),
        "version": pl.Utf8(),
        "top_reasons": pl.List(pl.Utf8()),
    }
)


class ModelScoresError(ValueError):
    """A scores file that cannot become flags; the message names the file, row and fix."""


def model_flags_from_scores(scores_csv: Path) -> tuple[pl.DataFrame, str]:
    """Sender flags (``flags.SENDER_FLAG_SCHEMA``) for the accounts flagged for review in
    ``scores_csv``, and the model version that scored them (one model per flags folder)."""
    try:
        frame = pl.read_csv(
            scores_csv,
            schema_overrides={"account_id": pl.Utf8, "reasons": pl.Utf8, "model_version": pl.Utf8},
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ModelScoresError(
            f"{scores_csv} cannot be read as CSV ({type(exc).__name__}); give the scores.csv "
            "written by `safehold member score`"
        ) from None
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise ModelScoresError(
            f"{scores_csv}: missing column(s) {', '.join(missing)}; give the scores.csv written "
            "by `safehold member score` (it has " + ", ".join(SCORE_COLUMNS) + ")"
        )
    for column in ("account_id", "score", "band", "model_version"):
        empty = frame.with_row_index("_row").filter(pl.col(column).is_null())
        if empty.height:
            raise ModelScoresError(
                f"{scores_csv}: line {int(empty['_row'][0]) + 2}: {column} is empty; score the "
                "accounts again with `safehold member score`"
            )
    versions = frame["model_version"].unique().sort().to_list()
    if len(versions) != 1:
        raise ModelScoresError(
            f"{scores_csv} holds scores of {len(versions)} model versions "
            f"({', '.join(versions)}); a flags folder takes the scores of one model: score all "
            "accounts with the model in use"
        )
    version = str(versions[0])
    flagged = frame.filter(pl.col("band") == FLAGGED_BAND)
    senders = flagged.select(
        pl.col("account_id").alias("account"),
        pl.lit("model").alias("source"),
        pl.lit(MODEL_FLAG_BAND).alias("band"),
        pl.col("score").cast(pl.Float64),
        pl.concat_list(
            pl.format("released model {} flags this account for review", pl.lit(version)),
            pl.col("reasons")
            .fill_null("")
            .str.split("; ")
            .list.eval(pl.element().filter(pl.element() != "")),
        ).alias("reasons"),
    ).unique("account", keep="first", maintain_order=True)
    return senders, version


def _model_rules(rules: RuleSet) -> list[FlaggedSenderRule]:
    return [r for r in rules.active if isinstance(r, FlaggedSenderRule) and "model" in r.sources]


def with_model_context(alerts: pl.DataFrame, flags: FlagSet, rules: RuleSet) -> pl.DataFrame:
    """``alerts`` with a ``model`` column: the model's band, score, version and reasons where
    a model flag of the sender fired one of the alert's rules, else null."""
    version = flags.manifest.get("model_version")
    models = flags.model_flags
    fired = _model_rules(rules)
    if not fired or models.height == 0 or alerts.height == 0:
        return alerts.with_columns(pl.lit(None, dtype=MODEL_CONTEXT).alias("model"))
    fired_by_model = pl.lit(False)
    for rule in fired:
        fired_by_model = fired_by_model | (
            pl.col("rules").list.contains(rule.id) & pl.col("_band").is_in(list(rule.model_bands))
        )
    joined = alerts.join(
        models.rename({"account": "sender", "band": "_band", "score": "_score"}),
        on="sender",
        how="left",
        maintain_order="left",
    )
    context = pl.struct(
        pl.col("_band").alias("band"),
        pl.col("_score").alias("score"),
        pl.lit(str(version) if version else None, dtype=pl.Utf8).alias("version"),
        pl.col("_reasons").alias("top_reasons"),
    )
    return joined.with_columns(
        pl.when(fired_by_model.fill_null(False)).then(context).otherwise(None).alias("model")
    ).drop("_band", "_score", "_reasons")
