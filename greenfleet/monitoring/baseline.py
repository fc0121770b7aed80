"""Data-quality baselining: a dataset → ``statistics.json`` and ``constraints.json`` (SageMaker's files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from greenfleet.monitoring.constraints import suggest_constraints
from greenfleet.monitoring.dataset import read_dataset
from greenfleet.monitoring.statistics import dataset_statistics


@dataclass(frozen=True)
class Baseline:
    statistics: dict[str, Any]
    constraints: dict[str, Any]


def baseline(data: bytes, dataset_format: str, header: bool = False) -> Baseline:
    """``dataset_format``: ``csv`` (``header``: the first row names the columns) or ``json`` (JSON lines)."""
    statistics = dataset_statistics(read_dataset(data, dataset_format, header))
    return Baseline(statistics, suggest_constraints(statistics))
