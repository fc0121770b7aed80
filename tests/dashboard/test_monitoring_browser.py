"""The monitoring pages in a real headless Chromium against a real server with a real worker: an endpoint
capturing its traffic, a data-quality baseline, a schedule run NOW on drifted traffic; the schedules page
shows it with its latest execution, the schedule's page the violations and per-feature drift of its
report, all without console errors. Screenshots land in screenshots/dashboard/ (git-ignored)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from greenfleet.cli.monitor import inline_job_definition
from greenfleet.server import Server
from tests.dashboard.browser import Browser, assert_clean, sign_in
from tests.dashboard.conftest import TOKEN
from tests.live.conftest import Api, features, sklearn_model  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow, pytest.mark.parallel]  # times nothing


def captured(directory: Path) -> int:
    """Records written so far under a capture destination (JSON lines)."""
    return sum(len(f.read_bytes().splitlines()) for f in directory.rglob("*") if f.is_file())


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def drifted(api: Api, sklearn_model: Path, features: np.ndarray,  # noqa: F811
            tmp_path_factory: pytest.TempPathFactory) -> str:
    """Schedule 'shop-drift': data quality of endpoint 'watched' against a baseline of the training data,
    run NOW over traffic whose first feature is shifted by 3 (a drift the report finds)."""
    root = tmp_path_factory.mktemp("monitoring")
    (root / "train.csv").write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in features))
    api.call("POST", "/api/monitoring/baselines", {"DatasetUri": str(root / "train.csv"), "DatasetFormat": "csv",
                                                    "OutputUri": str(root / "baseline")})
    api.call("POST", "/api/models", {"ModelName": "watched", "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "watched", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "watched", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        "DataCaptureConfig": {"InitialSamplingPercentage": 100, "DestinationS3Uri": str(root / "capture"),
                              "CaptureOptions": [{"CaptureMode": "Input"}],
                              "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}})
    api.call("POST", "/api/endpoints", {"EndpointName": "watched", "EndpointConfigName": "watched"})
    api.wait_status("watched", "InService")
    for row in features[:150]:
        response = api.invoke("watched", ",".join(f"{v:.5f}" for v in [row[0] + 3.0, *row[1:]]))
        assert response.status_code == 200, response.text
    wait_for(lambda: captured(root / "capture") >= 150, what="the capture files to hold the traffic")
    api.call("POST", "/api/monitoring/schedules", {"MonitoringScheduleName": "shop-drift", "MonitoringScheduleConfig": {
        "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H",
                           "DataAnalysisEndTime": "-PT0H"},
        "MonitoringType": "DataQuality",
        "MonitoringJobDefinition": inline_job_definition("watched", str(root / "baseline"), str(root / "reports"))}})
    return "shop-drift"


def test_schedules_executions_and_violations(browser: Browser, server: Server, drifted: str) -> None:
    sign_in(browser, server.settings.base_url, TOKEN)
    browser.css("nav a[href='/ui/monitoring']").click()  # linked from the navigation
    browser.wait(lambda: browser.text("h1") == "Model monitoring", what="the monitoring page")
    row = browser.wait(lambda: (text := browser.text("#schedules-heading + table tbody tr"))
                       and "CompletedWithViolations" in text and text, timeout_s=60,
                       what="the schedule's execution to find the drift")
    assert "shop-drift" in row and "watched" in row and "DataQuality" in row and "NOW" in row, row
    executions = browser.text("#executions-heading + table tbody")
    assert "shop-drift" in executions and "CompletedWithViolations" in executions, executions
    browser.screenshot("18-monitoring")
    assert_clean(browser)

    browser.css("#schedules-heading + table a[href='/ui/monitoring/shop-drift']").click()
    browser.wait(lambda: browser.text("h1") == "shop-drift", what="the schedule's page")
    violations = browser.text("#violations-heading + p + table")
    assert "_c0" in violations and "baseline_drift_check" in violations, violations
    features_table = browser.text("h3 + table")
    first = features_table.splitlines()[1]
    assert first.startswith("_c0") and "baseline_drift_check" in first, features_table
    assert "baseline_drift_check" not in "\n".join(features_table.splitlines()[2:])  # only the shifted feature
    assert "statistics.json" in browser.text("dl.facts") and "constraints.json" in browser.text("dl.facts")
    assert "CompletedWithViolations" in browser.text("#executions-heading + table")
    browser.screenshot("19-monitoring-schedule")
    assert_clean(browser)
