"""The two models every study fits: a logistic-regression baseline (standardised inputs, mild
L2 penalty) and LightGBM with conservative settings for cohorts of a few thousand rows.
``contributions`` gives per-subject SHAP values: exact for the linear model, LightGBM's own
TreeSHAP for the trees."""

from __future__ import annotations

from typing import Any, Literal, Protocol

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

ModelName = Literal["logistic", "lightgbm"]
MODEL_NAMES: tuple[ModelName, ...] = ("logistic", "lightgbm")
Matrix = npt.NDArray[np.float64]


class Classifier(Protocol):
    def fit(self, x: Matrix, y: npt.NDArray[Any]) -> Any: ...
    def predict_proba(self, x: Matrix) -> Matrix: ...


def make_model(name: ModelName, seed: int) -> Any:
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
    return lgb.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.03,
        num_leaves=7,
        min_child_samples=30,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )


def fit_predict(
    name: ModelName, seed: int, x_train: Matrix, y_train: Any, x_test: Matrix
) -> Matrix:
    model = make_model(name, seed)
    model.fit(x_train, y_train)
    return np.asarray(model.predict_proba(x_test)[:, 1], dtype=np.float64)


def contributions(model: Any, x: Matrix) -> Matrix:
    """Per-row, per-feature contributions to the log-odds (SHAP values), without the bias."""
    if isinstance(model, Pipeline):
        scaler: StandardScaler = model.named_steps["standardscaler"]
        logistic: LogisticRegression = model.named_steps["logisticregression"]
        z = scaler.transform(x)
        return np.asarray(z * logistic.coef_[0][None, :], dtype=np.float64)
    values = model.booster_.predict(x, pred_contrib=True)
    return np.asarray(values[:, :-1], dtype=np.float64)
