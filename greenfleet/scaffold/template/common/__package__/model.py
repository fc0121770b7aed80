"""Steps ``train`` and ``evaluate``: a scaled logistic regression, scored on the held-out split."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .data import Dataset

MODEL_FILE = "model.joblib"
"""The file greenfleet's scikit-learn runtime (image greenfleet/sklearn) loads."""


def train(dataset: Dataset, hyperparameters: dict[str, Any]) -> Pipeline:
    estimator = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression(**hyperparameters))])
    return estimator.fit(dataset.x_train, dataset.y_train)


def evaluate(estimator: Pipeline, dataset: Dataset) -> dict[str, float]:
    predicted = estimator.predict(dataset.x_test)
    average = "binary" if len(set(dataset.y_train)) == 2 else "macro"
    return {"accuracy": float(accuracy_score(dataset.y_test, predicted)),
            "f1": float(f1_score(dataset.y_test, predicted, average=average)),
            "precision": float(precision_score(dataset.y_test, predicted, average=average, zero_division=0)),
            "recall": float(recall_score(dataset.y_test, predicted, average=average))}


def save(estimator: Pipeline, directory: Path) -> str:
    """Write the model into ``directory``; returns the sha256 of the model file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    joblib.dump(estimator, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()
