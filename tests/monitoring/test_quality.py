"""Model quality, pure: predictions out of captured outputs, merged with labels, metrics, constraints."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from sklearn import metrics

from greenfleet.monitoring.quality import (
    BINARY,
    MULTICLASS,
    REGRESSION,
    Pairs,
    merge,
    output_value,
    quality_statistics,
    quality_violations,
)


def record(event_id: str, output: str, encoding: str = "JSON", inference_id: str | None = None) -> dict[str, object]:
    metadata = {"eventId": event_id, **({"inferenceId": inference_id} if inference_id else {})}
    return {"captureData": {"endpointOutput": {"data": output, "encoding": encoding}}, "eventMetadata": metadata}


def test_output_values_from_json_csv_and_base64() -> None:
    assert output_value({"data": '{"predictions":[1]}', "encoding": "JSON"}, "predictions") == 1.0
    assert output_value({"data": '{"predictions":[{"score":0.7}]}', "encoding": "JSON"}, "predictions.score") == 0.7
    assert output_value({"data": "0.2,0.8", "encoding": "CSV"}, "1") == 0.8
    assert output_value({"data": base64.b64encode(b"3.5").decode(), "encoding": "BASE64"}, None) == 3.5


def test_merge_uses_inference_id_else_event_id_and_counts_the_unmatched() -> None:
    records = [record("e1", '{"p":[0.9]}', inference_id="i1"), record("e2", '{"p":[0.2]}'),
               record("e3", '{"p":[0.6]}')]
    pairs = merge(records, {"i1": 1.0, "e2": 1.0}, BINARY, None, "p", 0.5)
    assert pairs.labels == [1.0, 1.0] and pairs.predictions == [1.0, 0.0] and pairs.probabilities == [0.9, 0.2]
    assert pairs.unmatched == 1


def test_binary_metrics_match_sklearn_and_violations_follow_the_operator() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400).astype(float)
    scores = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    p = (scores >= 0.5).astype(float)
    statistics = quality_statistics(Pairs(y.tolist(), p.tolist(), scores.tolist()), BINARY)
    section = statistics["binary_classification_metrics"]
    assert section["f1"]["value"] == pytest.approx(metrics.f1_score(y, p))
    assert section["auc"]["value"] == pytest.approx(metrics.roc_auc_score(y, scores))
    assert "standard_deviation" in section["accuracy"] and statistics["dataset"]["item_count"] == 400
    constraints = {"binary_classification_constraints": {
        "f1": {"threshold": 0.99, "comparison_operator": "LessThanThreshold"},
        "accuracy": {"threshold": 0.01, "comparison_operator": "LessThanThreshold"}}}
    found = quality_violations(statistics, constraints, BINARY)
    assert [(v["metric_name"], v["constraint_check_type"]) for v in found] == [("f1", "LessThanThreshold")]


def test_regression_and_multiclass_metrics() -> None:
    y, p = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.5, 4.0]
    regression = quality_statistics(Pairs(y, p), REGRESSION)["regression_metrics"]
    assert regression["mae"]["value"] == pytest.approx(0.25) and regression["rmse"]["value"] == pytest.approx(
        np.sqrt(0.125))
    assert "standard_deviation" not in regression["mae"]  # fewer than 200 pairs
    multi = quality_statistics(Pairs([0.0, 1.0, 2.0, 2.0], [0.0, 1.0, 1.0, 2.0]), MULTICLASS)
    assert multi["multiclass_classification_metrics"]["accuracy"]["value"] == 0.75


def test_suggested_constraints_sit_at_the_baseline_and_columns_are_checked() -> None:
    from greenfleet.errors import ValidationError
    from greenfleet.monitoring.quality import labelled_pairs, suggest_quality_constraints

    pairs = labelled_pairs({"y": ["1", "2", "3"], "p": ["1.5", "2", "2.5"]}, REGRESSION, "y", "p", None, 0.5)
    statistics = quality_statistics(pairs, REGRESSION)
    constraints = suggest_quality_constraints(statistics, REGRESSION)["regression_constraints"]
    assert constraints["mae"] == {"threshold": pytest.approx(1 / 3), "comparison_operator": "GreaterThanThreshold"}
    assert constraints["r2"]["comparison_operator"] == "LessThanThreshold"
    with pytest.raises(ValidationError) as info:
        labelled_pairs({"y": ["1"]}, REGRESSION, "y", "missing", None, 0.5)
    assert "no column 'missing'" in info.value.message
