"""Model quality, the pure half: predictions read from captured outputs, merged with ground-truth labels
by inferenceId (else eventId), metrics per problem type, and checks against the baseline's constraints
(``{"binary_classification_constraints": {"f1": {"threshold": 0.8, "comparison_operator":
"LessThanThreshold"}}}``: a violation when ``f1 < 0.8``)."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenfleet.errors import ValidationError

Doc = dict[str, Any]
BINARY, MULTICLASS, REGRESSION = "BinaryClassification", "MulticlassClassification", "Regression"
SECTIONS = {BINARY: "binary_classification", MULTICLASS: "multiclass_classification", REGRESSION: "regression"}
OPERATORS = {"LessThanThreshold": lambda v, t: v < t, "GreaterThanThreshold": lambda v, t: v > t,
             "LessThanOrEqualToThreshold": lambda v, t: v <= t, "GreaterThanOrEqualToThreshold": lambda v, t: v >= t}
MIN_FOR_STDDEV = 200
"""The standard deviation is reported from 200 pairs on (5 subsamples of 80 %), as SageMaker does."""


@dataclass
class Pairs:
    labels: list[float] = field(default_factory=list)
    predictions: list[float] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    unmatched: int = 0


def payload_text(payload: Mapping[str, Any]) -> str:
    data = str(payload["data"])
    return base64.b64decode(data).decode("utf-8") if payload.get("encoding") == "BASE64" else data


def _attribute(value: Any, attribute: str | None) -> float:
    """A number out of a JSON answer (``attribute`` a key, or dotted keys) or a CSV answer (an index)."""
    if attribute:
        for key in attribute.split("."):
            if isinstance(value, list):
                value = value[int(key)] if key.isdigit() else value[0][key] if value and isinstance(
                    value[0], dict) else value[0]
            else:
                value = value[key]
    while isinstance(value, list):
        value = value[0]
    return float(value)


def output_value(payload: Mapping[str, Any], attribute: str | None) -> float:
    text = payload_text(payload).strip()
    try:
        parsed: Any = json.loads(text)
    except json.JSONDecodeError:
        fields = text.splitlines()[0].split(",")
        return float(fields[int(attribute)] if attribute is not None and attribute.isdigit() else fields[0])
    return _attribute(parsed, attribute)


def merge(records: Iterable[Doc], labels: Mapping[str, float], problem: str, inference: str | None,
          probability: str | None, threshold: float) -> Pairs:
    pairs = Pairs()
    for record in records:
        output = record["captureData"].get("endpointOutput")
        if output is None:
            continue
        metadata = record["eventMetadata"]
        label = labels.get(metadata.get("inferenceId") or metadata["eventId"])
        if label is None:
            pairs.unmatched += 1
            continue
        if problem == BINARY and probability is not None:
            score = output_value(output, probability)
            pairs.probabilities.append(score)
            pairs.predictions.append(1.0 if score >= threshold else 0.0)
        else:
            pairs.predictions.append(output_value(output, inference))
        pairs.labels.append(label)
    return pairs


def _metrics(problem: str, y: np.ndarray, p: np.ndarray, scores: np.ndarray | None) -> dict[str, float]:
    from sklearn import metrics as m

    if problem == REGRESSION:
        mse = float(m.mean_squared_error(y, p))
        return {"mae": float(m.mean_absolute_error(y, p)), "mse": mse, "rmse": math.sqrt(mse),
                "r2": float(m.r2_score(y, p))}
    if problem == BINARY:
        found = {"accuracy": float(m.accuracy_score(y, p)),
                 "precision": float(m.precision_score(y, p, zero_division=0)),
                 "recall": float(m.recall_score(y, p, zero_division=0)),
                 "f1": float(m.f1_score(y, p, zero_division=0))}
        if scores is not None and len(set(y.tolist())) == 2:
            found["auc"] = float(m.roc_auc_score(y, scores))
        return found
    return {"accuracy": float(m.accuracy_score(y, p)),
            "weighted_precision": float(m.precision_score(y, p, average="weighted", zero_division=0)),
            "weighted_recall": float(m.recall_score(y, p, average="weighted", zero_division=0)),
            "weighted_f1": float(m.f1_score(y, p, average="weighted", zero_division=0))}


def quality_statistics(pairs: Pairs, problem: str, seed: int = 0) -> Doc:
    if problem not in SECTIONS:
        raise ValidationError(f"ProblemType {problem} is not one of {', '.join(SECTIONS)}")
    y, p = np.asarray(pairs.labels), np.asarray(pairs.predictions)
    scores = np.asarray(pairs.probabilities) if pairs.probabilities else None
    values = _metrics(problem, y, p, scores)
    spread: dict[str, list[float]] = {k: [] for k in values}
    if len(y) >= MIN_FOR_STDDEV:
        rng = np.random.default_rng(seed)
        for _ in range(5):
            pick = rng.choice(len(y), size=int(0.8 * len(y)), replace=False)
            for key, value in _metrics(problem, y[pick], p[pick], None if scores is None else scores[pick]).items():
                spread[key].append(value)
    section = {key: {"value": value, **({"standard_deviation": float(np.std(spread[key]))} if spread[key] else {})}
               for key, value in values.items()}
    return {"version": 0.0, "dataset": {"item_count": len(y)}, f"{SECTIONS[problem]}_metrics": section}


def quality_violations(statistics: Doc, constraints: Doc, problem: str) -> list[Doc]:
    section = statistics[f"{SECTIONS[problem]}_metrics"]
    found = []
    for metric, rule in (constraints.get(f"{SECTIONS[problem]}_constraints") or {}).items():
        operator = rule.get("comparison_operator")
        if operator not in OPERATORS:
            raise ValidationError(f"constraints: {metric}.comparison_operator '{operator}' is not one of "
                                  f"{', '.join(OPERATORS)}")
        if metric not in section:
            continue
        value, threshold = section[metric]["value"], float(rule["threshold"])
        if OPERATORS[operator](value, threshold):
            found.append({"constraint_check_type": operator, "metric_name": metric,
                          "description": f"Metric {metric} with {value:.4g} was {operator} {threshold:g}"})
    return found


LOWER_IS_BETTER = {"mae", "mse", "rmse"}


def suggest_quality_constraints(statistics: Doc, problem: str) -> Doc:
    """Constraints at the baseline's own figures: a metric that gets worse than the baseline violates."""
    section = statistics[f"{SECTIONS[problem]}_metrics"]
    return {"version": 0.0, f"{SECTIONS[problem]}_constraints": {
        name: {"threshold": entry["value"],
               "comparison_operator": "GreaterThanThreshold" if name in LOWER_IS_BETTER else "LessThanThreshold"}
        for name, entry in section.items()}}


def labelled_pairs(columns: Mapping[str, list[Any]], problem: str, label: str, inference: str | None,
                   probability: str | None, threshold: float) -> Pairs:
    """A labelled validation dataset's columns (ground truth, prediction and/or probability) as pairs."""
    for name in (label, inference, probability):
        if name is not None and name not in columns:
            raise ValidationError(f"the dataset has no column '{name}' (columns: {', '.join(columns)})")
    if inference is None and probability is None:
        raise ValidationError("give InferenceAttribute or ProbabilityAttribute: the column of the model's answer")

    def numbers(name: str) -> list[float]:
        try:
            return [float(v) for v in columns[name]]
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"column '{name}': {exc}") from None

    pairs = Pairs(labels=numbers(label))
    if probability is not None and problem == BINARY:
        pairs.probabilities = numbers(probability)
        pairs.predictions = [1.0 if s >= threshold else 0.0 for s in pairs.probabilities]
    else:
        pairs.predictions = numbers(inference or "")
    return pairs
