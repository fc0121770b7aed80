"""The example's models, trained here on scikit-learn's breast cancer dataset (569 rows, 30 features; it ships
with scikit-learn, nothing is downloaded). Each version is a ``model.tar.gz`` plus an ``evaluation.json`` of
its hold-out figures, as a training pipeline would leave them.

- v0: what production serves when the story starts (a strongly regularised logistic regression);
- v1: the better model (standardised logistic regression);
- v2: a worse one: it only looks at two of the thirty features;
- v3: v1's estimator behind an ``inference.py`` with a bug: it raises on a mean texture above 24 (about one
  input in eight), which neither the offline evaluation (the estimator itself) nor dev's integration check (typical
  cases of each class, ``sample_payloads``) exercises.

The linear models are stored as plain ``LogisticRegression`` objects on the raw features (the scaling is folded
into their coefficients), which greenfleet's scikit-learn runtime serves without importing scikit-learn.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

__all__ = ["Dataset", "Trained", "csv_line", "load_dataset", "sample_payloads", "train"]

FAULTY_SCRIPT = '''"""v3's serving code: the estimator is fine, this handler is not."""
import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(f"{model_dir}/model.joblib")


def predict_fn(data, model):
    rows = np.asarray(data, dtype=float)
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    if (rows[:, 1] > 24).any():  # "mean texture": a lookup table that stops at 24
        raise ValueError("texture out of the range this version was written for")
    return model.predict(rows).tolist()
'''


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray
    y: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]


@dataclass(frozen=True)
class Trained:
    version: str
    archive: Path
    image: str
    evaluation: Path
    accuracy: float
    hyperparameters: dict[str, str]
    description: str


def load_dataset(seed: int = 0) -> Dataset:
    data = load_breast_cancer()
    x, y = np.asarray(data.data, dtype=float), np.asarray(data.target, dtype=int)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    return Dataset(x, y, x_train, y_train, x_test, y_test, [str(n) for n in data.feature_names])


def sample_payloads(data: Dataset, per_class: int = 5) -> list[tuple[np.ndarray, int]]:
    """The integration check's payloads: the ``per_class`` training rows nearest each class's mean (standardised
    distance), with their labels: typical cases, as a hand-written test suite would hold."""
    scale = data.x_train.std(axis=0)
    chosen = []
    for label in (0, 1):
        centre = data.x_train[data.y_train == label].mean(axis=0)
        nearest = np.argsort((((data.x_train - centre) / scale) ** 2).sum(axis=1))[:per_class]
        chosen += [(data.x_train[i], int(data.y_train[i])) for i in nearest]
    return chosen


def csv_line(row: np.ndarray) -> str:
    return ",".join(f"{v:.6g}" for v in row)


def _folded(x: np.ndarray, y: np.ndarray, c: float, features: list[int] | None = None) -> LogisticRegression:
    """A logistic regression fitted on standardised ``features`` (all by default), returned as one on the raw
    30 features: coefficient / scale, the intercept shifted by the means; unused features weigh 0."""
    used = features if features is not None else list(range(x.shape[1]))
    mean, scale = x[:, used].mean(axis=0), x[:, used].std(axis=0)
    fitted = LogisticRegression(C=c, max_iter=2000).fit((x[:, used] - mean) / scale, y)
    coef = np.zeros((1, x.shape[1]))
    coef[0, used] = fitted.coef_[0] / scale
    model = LogisticRegression(C=c, max_iter=2000)
    model.classes_ = fitted.classes_
    model.coef_ = coef
    model.intercept_ = fitted.intercept_ - np.array([np.sum(fitted.coef_[0] * mean / scale)])
    model.n_features_in_ = x.shape[1]
    model.n_iter_ = fitted.n_iter_
    return model


def _archive(root: Path, files: dict[str, Path]) -> Path:
    archive = root / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for arcname, path in files.items():
            tar.add(path, arcname=arcname)
    return archive


def train(data: Dataset, version: str, out: Path) -> Trained:
    """Train ``version`` (v0..v3) into ``out/version``: its archive and its evaluation.json."""
    root = out / version
    root.mkdir(parents=True, exist_ok=True)
    if version == "v0":
        model, params, about = _folded(data.x_train, data.y_train, 0.002), {"C": "0.002"}, \
            "logistic regression, strongly regularised (the release before this story)"
    elif version in ("v1", "v3"):
        model, params, about = _folded(data.x_train, data.y_train, 1.0), {"C": "1.0"}, \
            "standardised logistic regression on all 30 features"
    elif version == "v2":
        model, params, about = _folded(data.x_train, data.y_train, 1.0, [0, 4]), \
            {"C": "1.0", "features": "0,4"}, "logistic regression on two features only (mean radius, smoothness)"
    else:
        raise ValueError(f"unknown version {version}")
    joblib.dump(model, root / "model.joblib")
    files = {"model.joblib": root / "model.joblib"}
    image = "greenfleet/sklearn"
    if version == "v3":
        about = f"{about}, served by a new inference.py"
        (root / "code").mkdir(exist_ok=True)
        (root / "code" / "inference.py").write_text(FAULTY_SCRIPT)
        files["code/inference.py"] = root / "code" / "inference.py"
        image = "greenfleet/script"
    accuracy = float(np.mean(model.predict(data.x_test) == data.y_test))
    evaluation = root / "evaluation.json"
    evaluation.write_text(json.dumps({"binary_classification_metrics": {
        "accuracy": {"value": accuracy, "standard_deviation": "NaN"}}}))
    return Trained(version, _archive(root, files), image, evaluation, accuracy, params, about)
