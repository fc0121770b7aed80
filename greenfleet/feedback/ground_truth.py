"""The feedback API's labels as Model Monitor's ground truth: model-quality executions merge captured
answers with labels by inference id, from the ground-truth files first and, for ids those leave unlabelled,
from the labels callers sent to the feedback API (``PutFeedback`` with ``Label``). Model quality reads
labels as numbers, so a label that is not one is left out (as a missing label is)."""

from __future__ import annotations

import math
from collections.abc import Callable

from greenfleet.feedback.repository import FeedbackRepository

__all__ = ["feedback_labels"]


def feedback_labels(repo: FeedbackRepository) -> Callable[[str, list[str]], dict[str, float]]:
    """A ``GroundTruth`` source (``greenfleet.monitoring.quality_execution``) reading ``repo``'s outcomes."""

    def labels(endpoint: str, inference_ids: list[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        for inference_id, row in repo.outcomes(endpoint, inference_ids).items():
            value = _number(row.get("label"))
            if value is not None:
                found[inference_id] = value
        return found

    return labels


def _number(label: object) -> float | None:
    if label is None:
        return None
    try:
        value = float(str(label))
    except ValueError:
        return None
    return value if math.isfinite(value) else None
