"""A model-quality execution: the captured outputs of the window merged with ground-truth labels
(SageMaker's JSONL ``{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId":
...}}`` under ``{GroundTruthS3Input.S3Uri}/yyyy/mm/dd/hh/``, keyed by label-collection time, read from the
window's start to the run) and, for inference ids those files do not label, with the labels a
``GroundTruth`` source gives (the feedback API's, when the server wires it), metrics per ProblemType,
checks against the baseline constraints, reports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from greenfleet.capture.destination import local_root
from greenfleet.capture.reader import hours, read_captured
from greenfleet.errors import ValidationError
from greenfleet.monitoring.execution import COMPLETED, FAILED, WITH_VIOLATIONS, Outcome, output_uri
from greenfleet.monitoring.quality import merge, payload_text, quality_statistics, quality_violations
from greenfleet.monitoring.schedule import parse_offset
from greenfleet.monitoring.scheduler import RunExecution
from greenfleet.monitoring.uris import UriError, join, read_bytes, write_bytes

Doc = dict[str, Any]
GroundTruth = Callable[[str, list[str]], dict[str, float]]
"""Labels of an endpoint's inference ids from another source than the ground-truth files: (endpoint,
inference ids without a label) → {inference id: label}."""


def _label_files(uri: str, wanted: list[str], s3_endpoint_url: str | None) -> Iterator[bytes]:
    root = local_root(uri)
    if root is not None:
        for hour in wanted:
            directory = Path(root) / hour
            if directory.is_dir():
                for path in sorted(directory.glob("*.jsonl")):
                    yield path.read_bytes()
        return
    import boto3
    from botocore.client import Config

    parts = urlsplit(uri)
    config = Config(s3={"addressing_style": "path"}) if s3_endpoint_url else None
    client: Any = boto3.client("s3", endpoint_url=s3_endpoint_url, config=config)
    for hour in wanted:
        prefix = "/".join(p for p in (parts.path.strip("/"), hour) if p) + "/"
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=parts.netloc, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith(".jsonl"):
                    yield client.get_object(Bucket=parts.netloc, Key=item["Key"])["Body"].read()


def read_labels(uri: str, start: float, end: float, s3_endpoint_url: str | None) -> dict[str, float]:
    labels: dict[str, float] = {}
    for chunk in _label_files(uri.rstrip("/"), hours(start, end), s3_endpoint_url):
        for line in chunk.splitlines():
            if line.strip():
                record = orjson.loads(line)
                labels[record["eventMetadata"]["eventId"]] = float(payload_text(record["groundTruthData"]).strip())
    return labels


def run_quality_execution(job: Doc, endpoint: str, capture_destination: str, run: RunExecution,
                          s3_endpoint_url: str | None, ground_truth: GroundTruth | None = None) -> Outcome:
    app, job_input = job["ModelQualityAppSpecification"], job["ModelQualityJobInput"]
    endpoint_input = job_input["EndpointInput"]
    problem = app["ProblemType"]
    try:
        if endpoint_input.get("StartTimeOffset") or endpoint_input.get("EndTimeOffset"):
            # labels arrive late: analyse an earlier window, e.g. StartTimeOffset -P1D, EndTimeOffset -PT12H
            start_s = parse_offset(endpoint_input.get("StartTimeOffset") or "-PT1H",
                                   "EndpointInput.StartTimeOffset")
            end_s = parse_offset(endpoint_input.get("EndTimeOffset") or "-PT0S", "EndpointInput.EndTimeOffset")
            run = RunExecution(run.schedule_name, run.scheduled_time, run.scheduled_time - start_s,
                               run.scheduled_time - end_s)
        baseline = job.get("ModelQualityBaselineConfig") or {}
        constraints = json.loads(read_bytes(baseline["ConstraintsResource"]["S3Uri"], s3_endpoint_url)) \
            if baseline.get("ConstraintsResource") else {}
        labels = read_labels(job_input["GroundTruthS3Input"]["S3Uri"], run.window_start,
                             max(run.scheduled_time, run.window_end) + 1, s3_endpoint_url)
        records = list(read_captured(capture_destination, endpoint, run.window_start, run.window_end,
                                     s3_endpoint_url))
        if ground_truth is not None:
            unlabelled = [i for i in (r["eventMetadata"].get("inferenceId") for r in records)
                          if i is not None and i not in labels]
            if unlabelled:
                labels = {**ground_truth(endpoint, unlabelled), **labels}  # the files' labels win
        pairs = merge(records, labels, problem, endpoint_input.get("InferenceAttribute"),
                      endpoint_input.get("ProbabilityAttribute"),
                      float(endpoint_input.get("ProbabilityThresholdAttribute", 0.5)))
        if not pairs.labels:
            return Outcome(FAILED, failure_reason=f"No captured inference of endpoint {endpoint} in the window "
                           f"matched a ground-truth label ({pairs.unmatched} without a label)")
        statistics = quality_statistics(pairs, problem)
        violations = quality_violations(statistics, constraints, problem)
        out = output_uri({"MonitoringOutputConfig": job["ModelQualityJobOutputConfig"]}, endpoint, run)
        write_bytes(join(out, "statistics.json"), json.dumps(statistics).encode(), s3_endpoint_url)
        write_bytes(join(out, "constraint_violations.json"), json.dumps({"violations": violations}).encode(),
                    s3_endpoint_url)
    except (UriError, KeyError, ValueError, IndexError, TypeError, ValidationError) as exc:
        return Outcome(FAILED, failure_reason=f"model-quality analysis failed: {exc!s}")
    return Outcome(WITH_VIOLATIONS if violations else COMPLETED, out, None, None, statistics)


def quality_metric_requests(statistics: Doc, endpoint: str, schedule: str, at: float) -> list[Doc]:
    """Each metric of the execution in ``aws/sagemaker/Endpoints/model-metrics`` (EndpointName, ScheduleName)."""
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "ScheduleName", "Value": schedule}]
    section = next(v for k, v in statistics.items() if k.endswith("_metrics"))
    data = [{"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": float(entry["value"]),
             "Unit": "None", "StorageResolution": 1} for name, entry in section.items()]
    return [{"Namespace": "aws/sagemaker/Endpoints/model-metrics", "MetricData": data}] if data else []

