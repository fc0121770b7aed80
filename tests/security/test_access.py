"""One access policy for every face: credentials close all of them; Host, Origin and browser form posts
are checked; a non-loopback server without credentials is refused; bodies are capped and timed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from greenfleet.server import ConfigurationError, Server
from greenfleet.settings import Settings
from tests.aws.servers import running_server
from tests.conftest import free_port
from tests.security.conftest import raw_request

KEYS = {"AKIDSECURITY": "the-secret"}
TOKEN = "t0ken"
LIST_ENDPOINTS = {"X-Amz-Target": "SageMaker.ListEndpoints", "Content-Type": "application/x-amz-json-1.1"}


@pytest.fixture(scope="module")
def token_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("token") / "home", api_token=TOKEN, body_read_timeout_s=1.0,
                        max_api_body_bytes=64 * 1024) as server:
        yield server


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("keys") / "home", aws_credentials=KEYS,
                        region="eu-west-1") as server:
        yield server


def test_a_token_alone_closes_every_face(token_only: Server) -> None:
    url = token_only.settings.base_url
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    # the SageMaker protocol on POST / (issue 19 item 2: CreateModel with greenfleet/command ran unauthenticated)
    create = {"X-Amz-Target": "SageMaker.CreateModel", "Content-Type": "application/x-amz-json-1.1"}
    model = {"ModelName": "shell", "PrimaryContainer": {"Image": "greenfleet/command",
                                                        "Environment": {"GREENFLEET_COMMAND": "env"}}}
    open_door = httpx.post(url, headers=create, content=json.dumps(model))
    assert open_door.status_code == 403 and open_door.json()["__type"] == "MissingAuthenticationTokenException"
    cloudwatch = httpx.post(url, data={"Action": "ListMetrics", "Version": "2010-08-01"})
    assert cloudwatch.status_code == 403 and b"MissingAuthenticationToken" in cloudwatch.content
    invoke = httpx.post(f"{url}/endpoints/e/invocations", content=b"1")
    assert invoke.status_code == 403
    assert httpx.get(f"{url}/api/models").status_code == 401
    assert httpx.get(f"{url}/docs").status_code == 401
    assert httpx.get(f"{url}/health").status_code == 200
    wrong = httpx.post(url, headers={**LIST_ENDPOINTS, "Authorization": "Bearer nope"}, content=b"{}")
    assert wrong.status_code == 403

    assert httpx.post(url, headers={**LIST_ENDPOINTS, **bearer}, content=b"{}").json() == {"Endpoints": []}
    assert httpx.get(f"{url}/api/models", headers=bearer).json()["Models"] == []
    assert httpx.post(f"{url}/endpoints/e/invocations", headers=bearer, content=b"1").status_code == 400  # no such


def signed(server: Server, service: str, region: str, target: str, body: bytes = b"{}") -> httpx.Response:
    request = AWSRequest(method="POST", url=f"{server.settings.base_url}/", data=body,
                         headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials("AKIDSECURITY", "the-secret"), service, region).add_auth(request)
    return httpx.post(server.settings.base_url, headers=dict(request.headers), content=body)


def test_sigv4_must_name_the_service_and_the_region(keyed: Server) -> None:
    assert signed(keyed, "sagemaker", "eu-west-1", "SageMaker.ListEndpoints").status_code == 200
    other_service = signed(keyed, "monitoring", "eu-west-1", "SageMaker.ListEndpoints")
    assert other_service.status_code == 403 and "scoped to correct service" in other_service.json()["message"]
    other_region = signed(keyed, "sagemaker", "us-west-2", "SageMaker.ListEndpoints")
    assert other_region.status_code == 403 and "valid region" in other_region.json()["message"]
    cloudwatch = signed(keyed, "sagemaker", "eu-west-1", "GraniteServiceVersion20100801.ListMetrics")
    assert cloudwatch.status_code == 403
    assert httpx.get(f"{keyed.settings.base_url}/api/endpoints").status_code == 401  # keys close /api too
    sm = boto3.client("sagemaker", endpoint_url=keyed.settings.base_url, region_name="us-east-1",
                      aws_access_key_id="AKIDSECURITY", aws_secret_access_key="the-secret",
                      config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as info:
        sm.list_models()
    error: Any = info.value.response
    assert error["Error"]["Code"] == "InvalidSignatureException"


def test_host_origin_and_browser_form_posts_are_checked(server: Server) -> None:
    url = server.settings.base_url
    rebinding = httpx.get(f"{url}/api/models", headers={"Host": "attacker.example"})
    assert rebinding.status_code == 403 and "Host" in rebinding.json()["message"]
    assert httpx.get(f"{url}/api/models", headers={"Host": f"localhost:{server.settings.port}"}).status_code == 200

    # issue 19 item 5: a browser form POST of PutMetricAlarm with a webhook action, from another site
    form = {"Action": "PutMetricAlarm", "Version": "2010-08-01", "AlarmName": "evil", "MetricName": "m",
            "Namespace": "n", "Statistic": "Average", "Period": "60", "EvaluationPeriods": "1", "Threshold": "0",
            "ComparisonOperator": "GreaterThanThreshold", "AlarmActions.member.1": "http://attacker.example/hook"}
    cross_site = httpx.post(url, data=form, headers={"Origin": "http://attacker.example"})
    assert cross_site.status_code == 403
    same_origin_form = httpx.post(f"{url}/api/models", data={"ModelName": "x"},
                                  headers={"Origin": f"http://127.0.0.1:{server.settings.port}"})
    assert same_origin_form.status_code == 415  # the native API takes JSON only
    text_plain = httpx.post(url, content=b"{}", headers={"Content-Type": "text/plain"})
    assert text_plain.status_code == 415
    assert httpx.post(url, data={"Action": "DescribeAlarms", "Version": "2010-08-01"}).status_code == 200  # the CLI
    assert b"evil" not in httpx.post(url, data={"Action": "DescribeAlarms", "Version": "2010-08-01"}).content
    other_origin_json = httpx.post(f"{url}/api/models", json={"ModelName": "x"},
                                   headers={"Origin": f"http://localhost:{server.settings.port + 1}"})
    assert other_origin_json.status_code == 403


def test_a_remote_listener_needs_credentials(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"refuses to listen on 0\.0\.0\.0 with no credential"):
        Server(Settings(home=tmp_path / "a", host="0.0.0.0", port=free_port()))
    allowed = Server(Settings(home=tmp_path / "b", host="0.0.0.0", port=free_port(), api_token="t"))
    allowed.stop_controllers(stop_instances=True)
    opted_in = Server(Settings(home=tmp_path / "c", host="0.0.0.0", port=free_port(),
                               allow_unauthenticated_remote=True))
    opted_in.stop_controllers(stop_instances=True)


def test_bodies_are_capped_and_must_arrive(token_only: Server) -> None:
    port, auth = token_only.settings.port, f"Authorization: Bearer {TOKEN}\r\n".encode()
    big = httpx.post(f"{token_only.settings.base_url}/api/models", content=b"{" + b" " * 100_000 + b"}",
                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert big.status_code == 413
    for path, extra in ((b"/api/models", b"Content-Type: application/json\r\n"),
                        (b"/", b"X-Amz-Target: SageMaker.ListModels\r\n"),
                        (b"/endpoints/e/invocations", b"Content-Type: text/csv\r\n")):
        started = time.monotonic()
        status, _answer, _first = raw_request(port, b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
                                              + extra + b"Content-Length: 100\r\n\r\n{\"a\":", wait_s=10)
        assert status == 408, (path, _answer)
        assert time.monotonic() - started < 5
