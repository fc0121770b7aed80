"""One monitoring execution (the I/O half of the scheduler's RunExecution): read the baseline, read the
endpoint's captured data of the analysis window, check it, write ``statistics.json`` and
``constraint_violations.json`` under ``{S3Uri}/{endpoint}/{schedule}/yyyy/mm/dd/hh/``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from greenfleet.capture.reader import read_inputs
from greenfleet.monitoring.dataset import DatasetError, inputs_table
from greenfleet.monitoring.scheduler import RunExecution
from greenfleet.monitoring.uris import UriError, join, read_bytes, write_bytes
from greenfleet.monitoring.violations import Evaluation, evaluate

Doc = dict[str, Any]
COMPLETED, WITH_VIOLATIONS, FAILED = "Completed", "CompletedWithViolations", "Failed"


@dataclass
class Outcome:
    status: str
    output_uri: str | None = None
    failure_reason: str | None = None
    evaluation: Evaluation | None = None
    quality: Doc | None = None
    """A model-quality execution's statistics."""


def output_uri(job: Doc, endpoint: str, run: RunExecution) -> str:
    base = job["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"]
    return join(base, endpoint, run.schedule_name, time.strftime("%Y/%m/%d/%H", time.gmtime(run.scheduled_time)))


def _json_file(uri: str, s3_endpoint_url: str | None) -> Doc:
    try:
        document = json.loads(read_bytes(uri, s3_endpoint_url))
    except json.JSONDecodeError as exc:
        raise UriError(f"{uri} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise UriError(f"{uri} is not a JSON object")
    return document


def run_execution(job: Doc, endpoint: str, capture_destination: str, run: RunExecution,
                  s3_endpoint_url: str | None) -> Outcome:
    baseline = job.get("BaselineConfig") or {}
    started = time.monotonic()
    limit_s = float((job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds", 86400))

    def check_runtime() -> None:
        if time.monotonic() - started > limit_s:
            raise ValueError(f"the execution ran longer than StoppingCondition.MaxRuntimeInSeconds ({limit_s:g} s)")

    try:
        constraints = _json_file(baseline["ConstraintsResource"]["S3Uri"], s3_endpoint_url) \
            if baseline.get("ConstraintsResource") else {"features": []}
        statistics = _json_file(baseline["StatisticsResource"]["S3Uri"], s3_endpoint_url) \
            if baseline.get("StatisticsResource") else None
        records = list(read_inputs(capture_destination, endpoint, run.window_start, run.window_end,
                                   s3_endpoint_url))
        if not records:
            return Outcome(FAILED, failure_reason=f"No captured data of endpoint {endpoint} between "
                           f"{_iso(run.window_start)} and {_iso(run.window_end)} (is data capture enabled?)")
        check_runtime()
        names = [f["name"] for f in constraints.get("features", [])] or \
            [f["name"] for f in (statistics or {}).get("features", [])]
        evaluation = evaluate(inputs_table(records, names), constraints, statistics)
        check_runtime()
        out = output_uri(job, endpoint, run)
        write_bytes(join(out, "statistics.json"), json.dumps(evaluation.statistics).encode(), s3_endpoint_url)
        write_bytes(join(out, "constraint_violations.json"), json.dumps(evaluation.report).encode(),
                    s3_endpoint_url)
    except KeyError as exc:
        return Outcome(FAILED, failure_reason=f"a captured record or baseline file lacks {exc}")
    except (UriError, DatasetError, ValueError) as exc:
        return Outcome(FAILED, failure_reason=str(exc))
    return Outcome(WITH_VIOLATIONS if evaluation.violations else COMPLETED, out, None, evaluation)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
