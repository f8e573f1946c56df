"""A released model as a versioned folder a member can check and run on its own side: the
model, the feature specification, the threshold and bands, the study report, and a manifest
of SHA-256 digests. Written only when the release gate says so."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline

ARTIFACT_VERSION = 1


def _model_file(model: Any, folder: Path) -> str:
    if isinstance(model, Pipeline):
        scaler = model.named_steps["standardscaler"]
        logistic = model.named_steps["logisticregression"]
        payload = {
            "kind": "logistic",
            "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(),
            "coef": logistic.coef_[0].tolist(),
            "intercept": float(logistic.intercept_[0]),
        }
        (folder / "model.json").write_text(json.dumps(payload, indent=2) + "\n")
        return "model.json"
    model.booster_.save_model(str(folder / "model.lgb.txt"))
    return "model.lgb.txt"


def write_artifact(
    folder: Path, model: Any, features: list[str], threshold: float, summary: dict[str, Any]
) -> None:
    folder.mkdir(parents=True)
    model_name = _model_file(model, folder)
    spec = {
        "artifact_version": ARTIFACT_VERSION,
        "model_file": model_name,
        "features": features,
        "transform": "counts, days, seconds and rates as log(1 + x); shares as logit, clipped to [0.001, 0.999]",
        "threshold": threshold,
        "bands": {"flag": f"score >= {threshold:.6f}", "no flag": f"score < {threshold:.6f}"},
        "prereg_sha256": summary["prereg_sha256"],
    }
    (folder / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    (folder / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}
    (folder / "MANIFEST.sha256").write_text("".join(f"{d}  {n}\n" for n, d in digests.items()))
