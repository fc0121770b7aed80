"""Step ``prepare``: load the data set (it ships with scikit-learn: nothing is downloaded), split it, and
fingerprint it so that the registered version names exactly the data it was trained on."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split

LOADERS: dict[str, Callable[..., Any]] = {"breast_cancer": load_breast_cancer, "wine": load_wine}


@dataclass(frozen=True)
class Dataset:
    name: str
    sha256: str
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.y_train) + len(self.y_test)


def fingerprint(features: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of the features and labels (their dtype, shape and bytes): the same data, the same hash."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(features), np.ascontiguousarray(labels)):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def prepare(name: str, test_size: float = 0.25, random_state: int = 0) -> Dataset:
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(sorted(LOADERS))}")
    features, labels = LOADERS[name](return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(features, labels, test_size=test_size,
                                                        random_state=random_state, stratify=labels)
    return Dataset(name, fingerprint(features, labels), x_train, x_test, y_train, y_test)
