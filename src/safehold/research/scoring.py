"""Running a released model on a member's own side: check the artifact against its manifest,
read the member's behaviour records, and give each account a score, a band and the reasons
(the features that raised its score most). A band is a prompt for a person to look, never a
decision."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from safehold.exchange.model_version import model_version
from safehold.research.errors import StudyError
from safehold.research.features import Matrix, feature_matrix, meaning


@dataclass(frozen=True)
class ReleasedModel:
    folder: Path
    spec: dict[str, Any]
    model: dict[str, Any] | lgb.Booster

    @property
    def features(self) -> list[str]:
        return list(self.spec["features"])

    @property
    def version(self) -> str:
        """As the hub's monitoring names it (exchange.model_version)."""
        return model_version(self.folder)

    def logits_and_contributions(self, x: Matrix) -> tuple[Matrix, Matrix]:
        if isinstance(self.model, lgb.Booster):
            contrib = np.asarray(self.model.predict(x, pred_contrib=True), dtype=np.float64)
            return contrib.sum(axis=1), contrib[:, :-1]
        z = (x - np.asarray(self.model["mean"])) / np.asarray(self.model["scale"])
        contrib = z * np.asarray(self.model["coef"])[None, :]
        return contrib.sum(axis=1) + float(self.model["intercept"]), contrib


def load_released_model(folder: Path) -> ReleasedModel:
    """The artifact in ``folder``, refused if any file differs from its manifest."""
    manifest = folder / "MANIFEST.sha256"
    if not manifest.is_file():
        raise StudyError(f"{folder} holds no MANIFEST.sha256: not a released model folder")
    for line in manifest.read_text().splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise StudyError(
                f"{path} does not match its SHA-256 in the manifest: the model was altered or is "
                "incomplete; fetch the released model again"
            )
    spec = json.loads((folder / "spec.json").read_text())
    model_path = folder / spec["model_file"]
    model: dict[str, Any] | lgb.Booster = (
        lgb.Booster(model_file=str(model_path))
        if model_path.suffix == ".txt"
        else json.loads(model_path.read_text())
    )
    return ReleasedModel(folder=folder, spec=spec, model=model)


def _ids(frame: pl.DataFrame, source: Path) -> pl.Series:
    if "account_id" in frame.columns:
        return frame["account_id"].cast(pl.String)
    if "subject" in frame.columns:
        return frame["subject"].struct.field("pseudonym").alias("account_id")
    raise StudyError(
        f"{source} has neither an account_id nor a subject column; give behaviour records"
    )


def score_accounts(released: ReleasedModel, accounts: Path, top: int = 3) -> pl.DataFrame:
    """account_id, score, band, reasons and model_version for every row of a behaviour
    Parquet file (the version travels with the scores into the klaxon's flags and from
    there with each alert the model contributed to)."""
    try:
        frame = pl.read_parquet(accounts)
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise StudyError(f"{accounts} could not be read as Parquet: {exc}") from None
    missing = [f for f in released.features if f not in frame.columns]
    if missing:
        raise StudyError(
            f"{accounts} lacks the model's feature column(s) {', '.join(missing)}; give behaviour "
            "records in the exchange format"
        )
    logits, contrib = released.logits_and_contributions(feature_matrix(frame, released.features))
    scores = 1.0 / (1.0 + np.exp(-logits))
    threshold = float(released.spec["threshold"])
    reasons = []
    for row in contrib:
        order = [i for i in np.argsort(-row)[:top] if row[i] > 0]
        reasons.append(
            "; ".join(f"{released.features[i]}: {meaning(released.features[i])}" for i in order)
        )
    return pl.DataFrame(
        {
            "account_id": _ids(frame, accounts),
            "score": np.round(scores, 6),
            "band": np.where(scores >= threshold, "flag for review", "no flag"),
            "reasons": reasons,
            "model_version": [released.version] * len(reasons),
        }
    )
