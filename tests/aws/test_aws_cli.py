"""The AWS CLI (``awscli``, the dev extra; it vendors its own botocore) against greenfleet, unchanged, on a
server with access keys configured so that the CLI's own SigV4 signatures are verified too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, create_endpoint
from tests.live.test_endpoints_live import csv_row

pytestmark = [pytest.mark.slow, pytest.mark.parallel]
AWS = Path(sys.executable).with_name("aws")
KEY, SECRET = "AKIDCLI", "cli-secret"


@pytest.fixture
def locked_server(tmp_path: Path) -> Iterator[Server]:
    if not AWS.exists():
        pytest.skip(f"the AWS CLI is not installed at {AWS} (pip install -e '.[dev]' brings awscli)")
    with running_server(tmp_path / "home", aws_credentials={KEY: SECRET}) as server:
        yield server


def aws(server: Server, tmp_path: Path, *args: str, secret: str = SECRET) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"), "AWS_PAGER": "",
           "AWS_MAX_ATTEMPTS": "1"}
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return subprocess.run([str(AWS), "--endpoint-url", server.settings.base_url, "--output", "json", *args],
                          env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_cli_sagemaker_runtime_and_cloudwatch(locked_server: Server, tmp_path: Path, sklearn_model: Path,
                                              features: np.ndarray) -> None:
    sm = boto3.client("sagemaker", endpoint_url=locked_server.settings.base_url, region_name="us-east-1",
                      aws_access_key_id=KEY, aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 1}))
    create_endpoint(sm, "cli", sklearn_model, {"only": 1.0})
    sm.get_waiter("endpoint_in_service").wait(EndpointName="cli", WaiterConfig=FAST_WAITER)

    listed = ok(aws(locked_server, tmp_path, "sagemaker", "list-endpoints"))
    assert [(e["EndpointName"], e["EndpointStatus"]) for e in listed["Endpoints"]] == [("cli", "InService")]
    described = ok(aws(locked_server, tmp_path, "sagemaker", "describe-endpoint", "--endpoint-name", "cli"))
    assert described["ProductionVariants"][0]["VariantName"] == "only"
    missing = aws(locked_server, tmp_path, "sagemaker", "describe-endpoint", "--endpoint-name", "nope")
    assert missing.returncode != 0 and "ValidationException" in missing.stderr
    refused = aws(locked_server, tmp_path, "sagemaker", "list-endpoints", secret="wrong")
    assert refused.returncode != 0 and "InvalidSignatureException" in refused.stderr

    (tmp_path / "row.csv").write_text(csv_row(features))
    invoked = ok(aws(locked_server, tmp_path, "sagemaker-runtime", "invoke-endpoint", "--endpoint-name", "cli",
                     "--content-type", "text/csv", "--body", "fileb://row.csv", "out.json"))
    assert invoked["InvokedProductionVariant"] == "only"
    assert (tmp_path / "out.json").read_bytes().strip()

    ok(aws(locked_server, tmp_path, "cloudwatch", "put-metric-data", "--namespace", "CLI", "--metric-name",
           "Calls", "--value", "3", "--dimensions", "Endpoint=cli"))
    metrics = ok(aws(locked_server, tmp_path, "cloudwatch", "list-metrics", "--namespace", "CLI"))
    assert metrics["Metrics"] == [{"Namespace": "CLI", "MetricName": "Calls",
                                   "Dimensions": [{"Name": "Endpoint", "Value": "cli"}]}]
    ok(aws(locked_server, tmp_path, "cloudwatch", "put-metric-alarm", "--alarm-name", "cli-calls", "--namespace",
           "CLI", "--metric-name", "Calls", "--statistic", "Sum", "--period", "10", "--evaluation-periods", "1",
           "--threshold", "5", "--comparison-operator", "GreaterThanThreshold"))
    alarms = ok(aws(locked_server, tmp_path, "cloudwatch", "describe-alarms", "--alarm-name-prefix", "cli"))
    assert [a["AlarmName"] for a in alarms["MetricAlarms"]] == ["cli-calls"]
