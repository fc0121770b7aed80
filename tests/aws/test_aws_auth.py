"""SigV4 on the AWS protocols (boto3 against a server with access keys configured), the verifier on its
own, and the native API's bearer-token switch."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from greenfleet.api.guard import Guard
from greenfleet.auth.policy import AccessPolicy
from greenfleet.auth.sigv4 import verify, verify_scope
from greenfleet.server import Server
from tests.aws.servers import running_server

KEYS = {"AKIDGREENFLEET": "the-right-secret", "AKIDOTHER": "another-secret"}


@pytest.fixture
def locked_server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path / "home", aws_credentials=KEYS, region="eu-west-1") as server:
        yield server


def client(server: Server, service: str, key: str = "AKIDGREENFLEET", secret: str = "the-right-secret",
           **config: Any) -> Any:
    return boto3.client(service, endpoint_url=server.settings.base_url, region_name="eu-west-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, **config))


def code_of(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call()
    response: Any = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_signed_requests_pass_and_bad_ones_get_aws_codes(locked_server: Server) -> None:
    cw, sm = client(locked_server, "cloudwatch"), client(locked_server, "sagemaker")
    now = time.time()
    # a gzipped body: the signature covers the compressed bytes
    cw.put_metric_data(Namespace="Signed", MetricData=[
        {"MetricName": "m", "Values": [float(v) for v in range(150)], "Dimensions": [{"Name": "i", "Value": str(i)}]}
        for i in range(10)])
    assert len(cw.list_metrics(Namespace="Signed")["Metrics"]) == 10
    assert cw.get_metric_statistics(Namespace="Signed", MetricName="m", Dimensions=[{"Name": "i", "Value": "3"}],
                                    StartTime=now - 60, EndTime=now + 60, Period=60,
                                    Statistics=["SampleCount"])["Datapoints"][0]["SampleCount"] == 150.0
    assert sm.list_endpoints()["Endpoints"] == []
    assert client(locked_server, "sagemaker", "AKIDOTHER", "another-secret").list_models()["Models"] == []

    wrong_secret = client(locked_server, "cloudwatch", secret="guessed")
    assert code_of(wrong_secret.list_metrics) == ("SignatureDoesNotMatch", 403)
    assert code_of(lambda: client(locked_server, "sagemaker", secret="guessed").list_endpoints()) == \
        ("InvalidSignatureException", 403)
    unknown = client(locked_server, "cloudwatch", key="AKIDNOBODY")
    assert code_of(unknown.describe_alarms) == ("InvalidClientTokenId", 403)
    assert code_of(lambda: client(locked_server, "sagemaker", key="AKIDNOBODY").list_endpoints()) == \
        ("UnrecognizedClientException", 403)
    unsigned = client(locked_server, "cloudwatch", signature_version=UNSIGNED)
    assert code_of(unsigned.list_metrics) == ("MissingAuthenticationToken", 403)
    assert code_of(lambda: client(locked_server, "sagemaker", signature_version=UNSIGNED).list_endpoints()) == \
        ("MissingAuthenticationTokenException", 403)
    # a path-addressed sagemaker-runtime route is verified too (the raw path is part of the signature)
    runtime = client(locked_server, "sagemaker-runtime")
    assert code_of(lambda: runtime.invoke_endpoint_async(EndpointName="e-1", InputLocation="s3://b/k"))[0] == \
        "ValidationError"
    bad_runtime = client(locked_server, "sagemaker-runtime", secret="guessed")
    assert code_of(lambda: bad_runtime.invoke_endpoint_async(EndpointName="e-1", InputLocation="s3://b/k")) == \
        ("InvalidSignatureException", 403)


def test_without_keys_anything_is_accepted(server: Server) -> None:
    assert client(server, "cloudwatch", key="ANY", secret="thing").list_metrics()["Metrics"] == []
    assert client(server, "sagemaker", signature_version=UNSIGNED).list_endpoints()["Endpoints"] == []


# -- the verifier on its own (what the data plane calls) ------------------------------------------------
def signed(body: bytes = b'{"a": 1}', path: str = "/endpoints/my%20model/invocations", query: str = "x=1&b=2",
           key: str = "AKIDGREENFLEET", secret: str = "the-right-secret") -> AWSRequest:
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:8080{path}?{query}", data=body,
                         headers={"Content-Type": "application/json", "X-Amzn-SageMaker-Custom-Attributes": "c=1"})
    SigV4Auth(Credentials(key, secret), "sagemaker", "us-east-1").add_auth(request)
    return request


def scope_of(request: AWSRequest) -> dict[str, Any]:
    path, _, query = request.url.split("8080", 1)[1].partition("?")
    headers = [(k.lower().encode(), v.encode() if isinstance(v, str) else v) for k, v in request.headers.items()]
    headers.append((b"host", b"127.0.0.1:8080"))
    return {"type": "http", "method": "POST", "path": path.replace("%20", " "), "raw_path": path.encode(),
            "query_string": query.encode(), "headers": headers}


def test_verifier() -> None:
    request = signed()
    now = time.time()
    assert verify_scope(scope_of(request), b'{"a": 1}', KEYS, now) is None
    assert verify_scope(scope_of(request), b'{"a": 1}', None, now) is None  # no keys: off

    tampered = verify_scope(scope_of(request), b'{"a": 2}', KEYS, now)
    assert tampered is not None and tampered.code() == "InvalidSignatureException"
    expired = verify_scope(scope_of(request), b'{"a": 1}', KEYS, now + 16 * 60)
    assert expired is not None and expired.code(query_compatible=True) == "SignatureDoesNotMatch"
    assert "expired" in expired.message
    wrong = verify_scope(scope_of(signed(secret="nope")), b'{"a": 1}', KEYS, now)
    assert wrong is not None and wrong.kind == "bad_signature"
    unknown = verify_scope(scope_of(signed(key="AKIDNOBODY")), b'{"a": 1}', KEYS, now)
    assert unknown is not None and unknown.code() == "UnrecognizedClientException"

    scope = scope_of(request)
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
    missing = verify_scope(scope, b'{"a": 1}', KEYS, now)
    assert missing is not None and missing.code(True) == "MissingAuthenticationToken"
    headers = [("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDGREENFLEET/20250101/us-east-1/x/aws4_request")]
    incomplete = verify(KEYS, "POST", "/", "", headers, b"", now)
    assert incomplete is not None and incomplete.code() == "IncompleteSignatureException"
    assert "SignedHeaders" in incomplete.message

    # a signed X-Amz-Content-SHA256 must be the body's
    request = AWSRequest(method="POST", url="http://h/", data=b"body",
                         headers={"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()})
    SigV4Auth(Credentials("AKIDGREENFLEET", "the-right-secret"), "monitoring", "us-east-1").add_auth(request)
    headers = [(k, v) for k, v in request.headers.items()] + [("Host", "h")]
    mismatch = verify(KEYS, "POST", "/", "", headers, b"body", now)
    assert mismatch is not None and mismatch.kind == "bad_signature"


# -- the native API's bearer token ---------------------------------------------------------------------
def test_bearer_token_guards_api_paths_only() -> None:
    async def hello(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello")

    inner = Starlette(routes=[Route("/api/endpoints", hello), Route("/health", hello),
                              Route("/", hello, methods=["POST"])])

    async def requests(token: str | None, *calls: tuple[str, str, dict[str, str]]) -> list[httpx.Response]:
        guard = Guard(inner, AccessPolicy(None, token, "us-east-1"), listen_host="127.0.0.1", port=80,
                      allowed_hosts=["t"])
        transport = httpx.ASGITransport(app=guard)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return [await http.request(method, path, headers=headers) for method, path, headers in calls]

    health, aws, refused, wrong, basic, right = asyncio.run(requests(
        "s3cret", ("GET", "/health", {}), ("POST", "/", {}), ("GET", "/api/endpoints", {}),
        ("GET", "/api/endpoints", {"Authorization": "Bearer wrong"}),
        ("GET", "/api/endpoints", {"Authorization": "Basic s3cret"}),
        ("GET", "/api/endpoints", {"Authorization": "Bearer s3cret"})))
    assert health.status_code == 200
    assert aws.status_code == 200  # the AWS protocols verify SigV4 themselves
    assert refused.status_code == 401 and refused.json()["__type"] == "UnauthorizedException"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401 and basic.status_code == 401
    assert right.text == "hello"
    [open_api] = asyncio.run(requests(None, ("GET", "/api/endpoints", {})))
    assert open_api.status_code == 200
