"""Validation on every face (issue 19 items 7, 8 and 10): numbers that are not numbers, empty names,
CloudWatch's periods, case-insensitive variant names, body/path mismatches, missing rollback alarms,
bodies that used to answer 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.live.conftest import Api

SM = "application/x-amz-json-1.1"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sklearn_model: Path) -> Iterator[tuple[Server, Api]]:
    with running_server(tmp_path_factory.mktemp("validation") / "home", strict_deployment_minimums=True) as server:
        api = Api(server.settings.base_url)
        api.call("POST", "/api/models", {"ModelName": "m", "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}})
        for name in ("c", "c2"):
            api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
                {"VariantName": "a", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
        api.call("POST", "/api/endpoints", {"EndpointName": "e", "EndpointConfigName": "c"})
        api.wait_status("e", "InService")
        yield server, api
        api.http.close()


def sagemaker(server: Server, operation: str, text: str) -> httpx.Response:
    return httpx.post(server.settings.base_url, content=text.encode(),
                      headers={"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": SM})


def test_numbers_that_are_not_numbers(live: tuple[Server, Api]) -> None:
    server, api = live
    for constant in ("NaN", "Infinity", "-Infinity"):
        weights = ('{"EndpointName": "e", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredWeight": '
                   f'{constant}}}]}}')
        answer = sagemaker(server, "UpdateEndpointWeightsAndCapacities", weights)
        assert answer.status_code == 400 and answer.json()["__type"] == "ValidationException", answer.text
        native = api.http.post("/api/endpoints/e/weights-and-capacities", content=weights.replace(
            '"EndpointName": "e", ', ""), headers={"Content-Type": "application/json"})
        assert native.status_code == 400, native.text
        config = ('{"EndpointConfigName": "nan", "ProductionVariants": [{"VariantName": "a", "ModelName": "m", '
                  f'"InitialInstanceCount": 1, "InstanceType": "ml.m5.large", "InitialVariantWeight": {constant}}}]}}')
        assert sagemaker(server, "CreateEndpointConfig", config).status_code == 400
        alarm = {"AlarmName": "nan", "MetricName": "m", "Namespace": "n", "Statistic": "Sum", "Period": 60,
                 "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold"}
        text = json.dumps(alarm)[:-1] + f', "Threshold": {constant}}}'
        assert api.http.put("/api/alarms/nan", content=text, headers={"Content-Type": "application/json"}
                            ).status_code == 400
        query = httpx.post(server.settings.base_url, data={**{k: str(v) for k, v in alarm.items()},
                                                           "Action": "PutMetricAlarm", "Version": "2010-08-01",
                                                           "Threshold": constant})
        assert query.status_code == 400, query.text
    described = sagemaker(server, "DescribeEndpoint", '{"EndpointName": "e"}')
    assert described.json()["EndpointStatus"] == "InService" and "Infinity" not in described.text
    assert described.json()["ProductionVariants"][0]["DesiredWeight"] == 1.0
    assert api.call("GET", "/api/alarms")["MetricAlarms"] == []


def test_names_periods_variants_and_paths(live: tuple[Server, Api]) -> None:
    server, api = live
    empty = sagemaker(server, "CreateModel", '{"ModelName": "", "PrimaryContainer": {"Image": "greenfleet/sklearn"}}')
    assert empty.status_code == 400 and "regular expression pattern" in empty.json()["message"]
    cased = api.http.post("/api/endpoint-configs", json={"EndpointConfigName": "cased", "ProductionVariants": [
        {"VariantName": v, "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        for v in ("a", "A")]})
    assert cased.status_code == 400 and "case-insensitively" in cased.json()["message"]
    seven = api.http.put("/api/alarms/p7", json={"MetricName": "m", "Namespace": "n", "Statistic": "Sum",
                                                 "Period": 7, "EvaluationPeriods": 1, "Threshold": 1,
                                                 "ComparisonOperator": "GreaterThanThreshold"})
    assert seven.status_code == 400 and "10, 20, 30 or a multiple of 60" in seven.json()["message"]
    other = api.http.post("/api/endpoints/e/update", json={"EndpointName": "other", "EndpointConfigName": "c2"})
    assert other.status_code == 400 and "does not match 'e' in the path" in other.json()["message"]
    weights = api.http.post("/api/endpoints/e/weights-and-capacities", json={
        "EndpointName": "other", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredWeight": 1}]})
    assert weights.status_code == 400


def test_bodies_that_used_to_answer_500(live: tuple[Server, Api]) -> None:
    server, api = live
    deep = sagemaker(server, "ListModels", "[" * 100_000 + "]" * 100_000)
    assert deep.status_code == 400 and "nested deeper" in deep.json()["message"]
    assert api.http.post("/api/models", content=b"[" * 100_000, headers={"Content-Type": "application/json"}
                         ).status_code == 400
    yesterday = sagemaker(server, "ListModels", '{"CreationTimeAfter": "yesterday"}')
    assert yesterday.status_code == 400, yesterday.text
    assert api.http.get("/api/models", params={"CreationTimeAfter": "yesterday"}).status_code == 400
    # the built-in runtime: a body it cannot read is the client's error, never a model 5xx
    for content_type, body in (("application/json", b"[" * 5000 + b"]" * 5000), ("text/csv", b"1,2"),
                               ("application/json", b'{"instances": "x"}')):
        answer = api.invoke("e", body, content_type)
        assert answer.status_code == 424 and answer.json()["ErrorCode"] == "CLIENT_ERROR_FROM_MODEL", answer.text


def test_a_missing_rollback_alarm_is_refused(live: tuple[Server, Api]) -> None:
    server, api = live
    guarded = {"EndpointConfigName": "c2", "DeploymentConfig": {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                                  "MaximumExecutionTimeoutInSeconds": 600},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "does-not-exist"}]}}}
    refused = api.http.post("/api/endpoints/e/update", json=guarded)
    assert refused.status_code == 400 and "no alarm named does-not-exist exists" in refused.json()["message"]
    answer: Any = sagemaker(server, "UpdateEndpoint", json.dumps({"EndpointName": "e", **guarded}))
    assert answer.status_code == 400 and answer.json()["__type"] == "ValidationException"
    assert api.call("GET", "/api/endpoints/e")["EndpointStatus"] == "InService"
    accepted = api.http.post("/api/endpoints/e/update", params={"AllowMissingAlarms": "true"}, json=guarded)
    assert accepted.status_code == 200, accepted.text
    api.wait_status("e", "InService")
    assert api.call("GET", "/api/endpoints/e")["EndpointConfigName"] == "c2"
