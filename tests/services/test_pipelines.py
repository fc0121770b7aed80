"""Inference pipelines at CreateModel and CreateEndpoint: SageMaker's rules for Containers and
InferenceExecutionConfig, and the desired state a pipeline's instances run."""

from __future__ import annotations

from typing import Any

import pytest

from greenfleet.errors import ValidationError
from tests.services.test_hosting import Hosting, config, variant


@pytest.fixture
def hosting(tmp_path: Any) -> Hosting:
    return Hosting(f"sqlite:///{tmp_path / 'store.db'}")


def containers(count: int, named: bool = False) -> list[dict[str, Any]]:
    return [{"Image": "greenfleet/sklearn", "ModelDataUrl": f"/tmp/m{i}",
             **({"ContainerHostname": f"step{i}"} if named else {})} for i in range(count)]


def test_a_serial_pipeline_is_stored_and_its_instances_run_every_container(hosting: Hosting) -> None:
    hosting.models.create_model({"ModelName": "m1", "Containers": containers(3)})
    described = hosting.models.describe_model({"ModelName": "m1"})
    assert [c["ModelDataUrl"] for c in described["Containers"]] == ["/tmp/m0", "/tmp/m1", "/tmp/m2"]
    hosting.models.create_endpoint_config(config())
    hosting.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})
    desired = hosting.repo.get_endpoint("e1")["state"].current.variants[0]
    document = desired.instance_document()
    assert document["Mode"] == "Serial"
    assert [c["ContainerHostname"] for c in document["Containers"]] == ["container-1", "container-2", "container-3"]
    images = hosting.endpoints.describe_endpoint({"EndpointName": "e1"})
    assert images["EndpointName"] == "e1"


@pytest.mark.parametrize(("count", "execution", "message"), [
    (16, None, "Member must have length less than or equal to 15"),
    (2, {"Mode": "Parallel"}, "Member must satisfy enum value set: [Serial, Direct]"),
    (2, {"Mode": "Direct"}, "ContainerHostname must be specified for every container"),
])
def test_pipelines_sagemaker_refuses(hosting: Hosting, count: int, execution: dict[str, str] | None,
                                     message: str) -> None:
    params: dict[str, Any] = {"ModelName": "m1", "Containers": containers(count)}
    if execution:
        params["InferenceExecutionConfig"] = execution
    with pytest.raises(ValidationError) as info:
        hosting.models.create_model(params)
    assert message in info.value.message
    assert hosting.models.list_models({})["Models"] == []


def test_hostnames_are_all_or_none_and_unique(hosting: Hosting) -> None:
    listed = containers(2, named=True)
    listed[1].pop("ContainerHostname")
    with pytest.raises(ValidationError, match="for all containers or for none"):
        hosting.models.create_model({"ModelName": "m1", "Containers": listed})
    twins = [{**c, "ContainerHostname": "same"} for c in containers(2)]
    with pytest.raises(ValidationError, match="duplicated: same"):
        hosting.models.create_model({"ModelName": "m1", "Containers": twins})


def test_a_direct_pipeline_keeps_its_hostnames(hosting: Hosting) -> None:
    hosting.models.create_model({"ModelName": "m1", "Containers": containers(2, named=True),
                                 "InferenceExecutionConfig": {"Mode": "Direct"}})
    hosting.models.create_endpoint_config(config("c1", variant()))
    hosting.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})
    pipeline = hosting.repo.get_endpoint("e1")["state"].current.variants[0].pipeline
    assert pipeline is not None and pipeline.Mode == "Direct"
    assert [c.ContainerHostname for c in pipeline.Containers] == ["step0", "step1"]


def test_an_async_config_refuses_a_direct_pipeline(hosting: Hosting, tmp_path: Any) -> None:
    from greenfleet.asyncinference.locations import Locations

    hosting.models.async_locations = Locations(None, [tmp_path])
    hosting.models.create_model({"ModelName": "m1", "Containers": containers(2, named=True),
                                 "InferenceExecutionConfig": {"Mode": "Direct"}})
    with pytest.raises(ValidationError, match="InvokeEndpointAsync cannot address"):
        hosting.models.create_endpoint_config({**config("c1", variant()), "AsyncInferenceConfig": {
            "OutputConfig": {"S3OutputPath": (tmp_path / "out").as_uri()}}})
    hosting.models.create_model({"ModelName": "m2", "Containers": containers(2)})
    hosting.models.create_endpoint_config({**config("c2", variant(model_name="m2")), "AsyncInferenceConfig": {
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 3},
        "OutputConfig": {"S3OutputPath": (tmp_path / "out").as_uri()}}})
    hosting.endpoints.create_endpoint({"EndpointName": "e2", "EndpointConfigName": "c2"})
    fleet = hosting.repo.get_endpoint("e2")["state"].current
    assert fleet.asynchronous is not None and fleet.asynchronous.max_concurrent == 3
    assert hosting.endpoints.describe_endpoint({"EndpointName": "e2"})["AsyncInferenceConfig"] == {
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 3},
        "OutputConfig": {"S3OutputPath": (tmp_path / "out").as_uri()}}


def test_a_pipeline_cannot_be_a_serverless_variant(hosting: Hosting) -> None:
    """SageMaker's serverless exclusions include inference pipelines."""
    hosting.models.create_model({"ModelName": "m1", "Containers": containers(2)})
    serverless = {"VariantName": "v1", "ModelName": "m1",
                  "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 2}}
    with pytest.raises(ValidationError, match=r"m1 is an inference pipeline .*: not supported with ServerlessConfig"):
        hosting.models.create_endpoint_config(config("c1", serverless))
    assert hosting.models.list_endpoint_configs({})["EndpointConfigs"] == []


def test_a_backend_that_cannot_run_pipelines_refuses_them_at_create_endpoint_config(hosting: Hosting) -> None:
    """The Ray backend starts one worker per instance: a pipeline there is refused, never half-run."""
    hosting.models.pipelines_refused_by = "ray"
    hosting.models.create_model({"ModelName": "m1", "Containers": containers(2)})
    with pytest.raises(ValidationError, match=r"inference pipeline, which does not run on the ray instance backend"):
        hosting.models.create_endpoint_config(config())
    assert hosting.models.list_endpoint_configs({})["EndpointConfigs"] == []
