"""The paired report survives a restart of the server: every pair a report counted before a SIGKILL is
counted again after it (the pairs are in the store), and new pairs add to them."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.live.conftest import Api, ServerProcess
from tests.live.test_endpoints_live import csv_row
from tests.live.test_experiment_report_live import other_model, shadow_test

pytestmark = pytest.mark.slow


def report(api: Api) -> dict[str, Any]:
    answer: dict[str, Any] = api.call("GET", "/api/inference-experiments/keep-test/report")
    return answer


def invoke_until_paired(api: Api, features: np.ndarray, start: int, n: int, at_least: int) -> dict[str, Any]:
    for index in range(start, start + n):
        assert api.invoke("keep", csv_row(features, index % len(features))).status_code == 200
        time.sleep(0.005)
    deadline = time.monotonic() + 15
    while (shown := report(api))["Pairs"] < at_least:
        assert time.monotonic() < deadline, shown["Pairs"]
        time.sleep(0.1)
    return shown


def test_a_restart_keeps_the_pairs_a_report_counted(server_process: Callable[[], ServerProcess],
                                                     sklearn_model: Path, features: np.ndarray,
                                                     tmp_path: Path) -> None:
    first = server_process()
    first.start()
    api = Api(f"http://127.0.0.1:{first.port}")
    shadow_test(api, "keep", sklearn_model, other_model(tmp_path))
    before = invoke_until_paired(api, features, 0, 60, 55)
    first.kill(signal.SIGKILL)

    second = server_process()
    second.start()
    after = report(api)  # nothing invoked yet: exactly what the report counted before the crash
    assert after["Pairs"] == before["Pairs"]
    assert after["Predictions"] == before["Predictions"]
    assert after["Latency"]["Production"] == before["Latency"]["Production"]
    api.wait_status("keep", "InService", timeout_s=60)
    deadline = time.monotonic() + 60  # the adopted shadow fleet is routed again
    while api.call("GET", "/api/inference-experiments/keep-test")["Status"] != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    more = invoke_until_paired(api, features, 60, 40, before["Pairs"] + 35)
    assert more["Predictions"]["Pairs"] >= before["Predictions"]["Pairs"] + 35
    api.http.close()
