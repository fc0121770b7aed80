"""Model quality with labels from two sources: SageMaker's ground-truth files, and a ``GroundTruth``
source (the feedback API's, once the server wires it) asked only for the inference ids the files do not
label; the files' labels win."""

from __future__ import annotations

import json
import time
from pathlib import Path

from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.record import CapturedEvent
from greenfleet.capture.writer import CaptureWriter
from greenfleet.monitoring.quality_execution import run_quality_execution
from greenfleet.monitoring.scheduler import RunExecution

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def setup(tmp_path: Path) -> dict[str, object]:
    setting = CaptureSetting(str(tmp_path / "cap"), 100, True, True, frozenset({"text/csv"}), frozenset())
    writer = CaptureWriter(max_queued_bytes=1 << 24, flush_interval_s=1.0)
    for i in range(40):  # the model predicts 1 for every inference
        writer.offer(CapturedEvent(setting, "ep", "v", NOW - 600 + i, b"0.5,0.5", "text/csv", b"1", "text/csv",
                                   f"inf-{i}"))
    writer.stop()
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime(NOW))
    (tmp_path / "truth" / hour).mkdir(parents=True)
    (tmp_path / "truth" / hour / "labels.jsonl").write_text("\n".join(json.dumps(  # files label inf-0..9 as 1
        {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": f"inf-{i}"},
         "eventVersion": "0"}) for i in range(10)))
    return {"ModelQualityAppSpecification": {"ImageUri": "monitor", "ProblemType": "BinaryClassification"},
            "ModelQualityJobInput": {"EndpointInput": {"EndpointName": "ep", "LocalPath": "/in"},
                                     "GroundTruthS3Input": {"S3Uri": str(tmp_path / "truth")}},
            "ModelQualityJobOutputConfig": {"MonitoringOutputs": [{"S3Output": {"S3Uri": str(tmp_path / "out")}}]}}


def test_a_ground_truth_source_labels_what_the_files_do_not(tmp_path: Path) -> None:
    job = setup(tmp_path)
    asked: list[list[str]] = []

    def feedback(endpoint: str, ids: list[str]) -> dict[str, float]:
        asked.append(ids)
        assert endpoint == "ep"
        return {i: 0.0 for i in ids if int(i.split("-")[1]) < 30} | {"inf-0": 0.0}  # inf-0: the file wins

    run = RunExecution("s", NOW, NOW - 3600, NOW)
    outcome = run_quality_execution(job, "ep", str(tmp_path / "cap"), run, None, feedback)
    assert asked == [[f"inf-{i}" for i in range(10, 40)]]
    assert outcome.quality is not None
    assert outcome.quality["dataset"]["item_count"] == 30  # 10 from the files, 20 from the source, 10 unlabelled
    assert outcome.quality["binary_classification_metrics"]["accuracy"]["value"] == 10 / 30

    alone = run_quality_execution(job, "ep", str(tmp_path / "cap"), run, None)
    assert alone.quality is not None and alone.quality["dataset"]["item_count"] == 10
