"""Shadow tests through boto3 only: CreateInferenceExperiment on a live endpoint starts a shadow fleet
(real worker processes), UpdateInferenceExperiment changes its sampling while it runs, bad input is
refused with SageMaker's errors, and StopInferenceExperiment promotes the shadow through a guarded
deployment under load with no failed request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.aws.test_sagemaker_boto3 import FAST_WAITER, ROLE, client
from tests.conftest import free_port
from tests.live.conftest import FAST, Api
from tests.live.test_deployments_live import Load
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


@pytest.fixture
def xserver(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(home=tmp_path / "home", port=free_port(), experiment_promote_bake_s=1, **FAST)
    instance = Server(settings)
    instance.start_in_thread()
    yield instance
    instance.stop_thread()


def variant(model: str, name: str, count: int = 1) -> dict[str, Any]:
    return {"ModelName": model, "VariantName": name, "InfrastructureConfig": {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count}}}


def experiment(name: str, endpoint: str, sampling: int = 100) -> dict[str, Any]:
    return {"Name": name, "Type": "ShadowMode", "RoleArn": ROLE, "EndpointName": endpoint,
            "ModelVariants": [variant("prod", "main"), variant("candidate", "shadow")],
            "ShadowModeConfig": {"SourceModelVariantName": "main", "ShadowModelVariants": [
                {"ShadowModelVariantName": "shadow", "SamplingPercentage": sampling}]}}


def wait_status(sm: Any, name: str, wanted: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    described: dict[str, Any] = {}
    while time.monotonic() < deadline:
        described = sm.describe_inference_experiment(Name=name)
        if described["Status"] == wanted:
            return described
        time.sleep(0.2)
    raise AssertionError(f"experiment {name} is not {wanted}: {described}")


def error_code(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**params)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_a_shadow_test_runs_changes_sampling_and_promotes_with_no_failed_request(
        xserver: Server, sklearn_model: Path, features: np.ndarray) -> None:
    sm = client(xserver, "sagemaker")
    for model in ("prod", "candidate"):
        sm.create_model(ModelName=model, ExecutionRoleArn=ROLE,
                        PrimaryContainer={"Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    sm.create_endpoint_config(EndpointConfigName="shop-v1", ProductionVariants=[{
        "VariantName": "main", "ModelName": "prod", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="shop", EndpointConfigName="shop-v1")
    # Bad input: an endpoint that is not InService yet.
    assert error_code(sm.create_inference_experiment, **experiment("early", "shop"))[0] == "ResourceInUse"
    sm.get_waiter("endpoint_in_service").wait(EndpointName="shop", WaiterConfig=FAST_WAITER)
    assert error_code(sm.create_inference_experiment, **experiment("too-much", "shop", 101))[0] == \
        "ValidationException"
    arn = sm.create_inference_experiment(**experiment("exp", "shop"))["InferenceExperimentArn"]
    assert arn.endswith(":inference-experiment/exp")
    assert error_code(sm.create_inference_experiment, **experiment("second", "shop"))[0] == "ResourceInUse"
    described = wait_status(sm, "exp", "Running")
    assert [v["Status"] for v in described["ModelVariants"]] == ["InService", "InService"]
    assert (described["Schedule"]["EndTime"] - described["Schedule"]["StartTime"]).total_seconds() == 7 * 86400
    shown = sm.describe_endpoint(EndpointName="shop")
    assert [v["VariantName"] for v in shown["ShadowProductionVariants"]] == ["shadow"]

    api = Api(xserver.settings.base_url)
    mirror = xserver.router.mirror
    for index in range(20):
        assert api.invoke("shop", csv_row(features, index)).headers["x-amzn-invoked-production-variant"] == "main"
    assert mirror.sent >= 19  # every request sampled (at most one in flight at a time here)

    # SamplingPercentage changes while running; 101 is refused.
    config = described["ShadowModeConfig"]
    config["ShadowModelVariants"][0]["SamplingPercentage"] = 101
    assert error_code(sm.update_inference_experiment, Name="exp", ShadowModeConfig=config)[0] == \
        "ValidationException"
    config["ShadowModelVariants"][0]["SamplingPercentage"] = 0
    sm.update_inference_experiment(Name="exp", ShadowModeConfig=config)
    deadline = time.monotonic() + 10
    while xserver.router.table.get("shop").shadows[0].sampling_percentage != 0:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sent = mirror.sent
    for index in range(20):
        assert api.invoke("shop", csv_row(features, index)).status_code == 200
    assert mirror.sent == sent
    assert error_code(sm.update_inference_experiment, Name="exp",
                      ModelVariants=[variant("prod", "main"), variant("candidate", "shadow", 2)])[0] == \
        "ConflictException"

    # Promote under load: the shadow's model replaces production through a guarded deployment.
    with Load(api, "shop", csv_row(features), clients=4) as load:
        sm.stop_inference_experiment(Name="exp", ModelVariantActions={"main": "Retain", "shadow": "Promote"},
                                     Reason="the candidate is as good")
        done = wait_status(sm, "exp", "Completed", timeout_s=120)
        time.sleep(0.5)
    assert load.failures == [], load.failures[:3]
    assert done["StatusReason"] == "the candidate is as good" and "CompletionTime" in done
    endpoint = sm.describe_endpoint(EndpointName="shop")
    assert endpoint["EndpointConfigName"] == "exp-promoted"
    assert [v["VariantName"] for v in endpoint["ProductionVariants"]] == ["main"]  # callers' name stays
    promoted = sm.describe_endpoint_config(EndpointConfigName="exp-promoted")["ProductionVariants"]
    assert [v["ModelName"] for v in promoted] == ["candidate"]
    assert "ShadowProductionVariants" not in endpoint
    listed = sm.list_inference_experiments(StatusEquals="Completed")["InferenceExperiments"]
    assert [i["Name"] for i in listed] == ["exp"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "outcome", "Value": "promoted"}])
    assert sm.delete_inference_experiment(Name="exp")["InferenceExperimentArn"] == arn
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []  # the experiment's tags go with it
    assert error_code(sm.describe_inference_experiment, Name="exp")[0] == "ResourceNotFound"
    api.http.close()


def test_a_scheduled_experiment_waits_created_until_started_and_schedules_are_bounded(
        xserver: Server, sklearn_model: Path) -> None:
    sm = client(xserver, "sagemaker")
    for model in ("prod", "candidate"):
        sm.create_model(ModelName=model, ExecutionRoleArn=ROLE,
                        PrimaryContainer={"Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)})
    sm.create_endpoint_config(EndpointConfigName="later-v1", ProductionVariants=[{
        "VariantName": "main", "ModelName": "prod", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="later", EndpointConfigName="later-v1")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="later", WaiterConfig=FAST_WAITER)
    now = time.time()
    too_long = {**experiment("long", "later"), "Schedule": {"StartTime": now, "EndTime": now + 31 * 86400}}
    assert "at most 30 days" in error_code(sm.create_inference_experiment, **too_long)[1]
    kms = {**experiment("kms", "later"), "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/x"}
    assert "KmsKey" in error_code(sm.create_inference_experiment, **kms)[1]  # refused, never stored unused
    arn = sm.create_inference_experiment(**{
        **experiment("later-test", "later"), "Schedule": {"StartTime": now + 3600, "EndTime": now + 7200},
        "Tags": [{"Key": "team", "Value": "ml"}]})["InferenceExperimentArn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    # Tags on the experiment's ARN (any case of its name), as on any SageMaker resource.
    sm.add_tags(ResourceArn=arn.replace("later-test", "Later-Test"), Tags=[{"Key": "stage", "Value": "canary"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "canary"}]
    missing = arn.replace("later-test", "no-such-test")
    assert error_code(sm.add_tags, ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}]) == \
        ("ValidationException", f'Could not find resource "{missing}".')
    wait_status(sm, "later-test", "Created")
    assert "ShadowProductionVariants" not in sm.describe_endpoint(EndpointName="later")  # nothing started yet
    sm.start_inference_experiment(Name="later-test")
    described = wait_status(sm, "later-test", "Running")
    assert described["Schedule"]["StartTime"].timestamp() == pytest.approx(time.time(), abs=30)
    assert error_code(sm.start_inference_experiment, Name="later-test")[0] == "ConflictException"
    assert error_code(sm.delete_inference_experiment, Name="later-test")[0] == "ConflictException"
    assert error_code(sm.stop_inference_experiment, Name="later-test",
                      ModelVariantActions={"main": "Remove"})[0] == "ValidationException"
    sm.stop_inference_experiment(Name="later-test", ModelVariantActions={"shadow": "Remove"})
    assert wait_status(sm, "later-test", "Completed")["ModelVariants"][1]["Status"] == "Deleted"
    deadline = time.monotonic() + 30
    while "ShadowProductionVariants" in sm.describe_endpoint(EndpointName="later"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
