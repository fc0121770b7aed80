"""Client round trips against a live server: every operation, its SageMaker shapes, its errors."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from greenfleet.client import ApiError, Client, ServerUnreachable, WaiterError
from greenfleet.instances.local import free_port
from tests.client.live import unique

ACCOUNT_ARN = "arn:aws:sagemaker:us-east-1:000000000000"


def make_model(client: Client, name: str | None = None, **extra: object) -> str:
    name = name or unique("model")
    client.create_model(ModelName=name, PrimaryContainer={"Image": "greenfleet/sklearn"}, **extra)
    return name


def variant(name: str, model: str, weight: float = 1.0) -> dict[str, object]:
    return {"VariantName": name, "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
            "InitialVariantWeight": weight}


def test_model_round_trip(client: Client) -> None:
    name = unique("model")
    container = {"Image": "greenfleet/sklearn", "ModelDataUrl": "/tmp/model.tar.gz", "Environment": {"A": "1"}}
    answer = client.create_model(ModelName=name, PrimaryContainer=container)
    assert answer == {"ModelArn": f"{ACCOUNT_ARN}:model/{name}"}
    described = client.describe_model(ModelName=name)
    assert described["PrimaryContainer"] == container
    assert described["ModelArn"] == answer["ModelArn"] and described["CreationTime"] > 0
    assert [m["ModelName"] for m in client.list_models(NameContains=name)["Models"]] == [name]
    assert client.delete_model(ModelName=name) == {}
    assert client.list_models(NameContains=name)["Models"] == []


def test_missing_model_is_a_validation_exception_naming_the_arn(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.describe_model(ModelName="no-such-model")
    error = caught.value
    assert (error.status, error.code) == (400, "ValidationException")
    assert f"{ACCOUNT_ARN}:model/no-such-model" in error.message
    assert error.not_found


def test_duplicate_model_name(client: Client) -> None:
    name = make_model(client)
    with pytest.raises(ApiError) as caught:
        make_model(client, name)
    assert caught.value.code == "ValidationException" and "already existing" in caught.value.message


def test_invalid_model_name_names_the_field(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.create_model(ModelName="bad_name!", PrimaryContainer={"Image": "greenfleet/sklearn"})
    assert caught.value.code == "ValidationException" and "modelName" in caught.value.message


def test_endpoint_config_round_trip(client: Client) -> None:
    model, name = make_model(client), unique("config")
    variants = [variant("blue", model, 0.7), variant("green", model, 0.3)]
    answer = client.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
    assert answer == {"EndpointConfigArn": f"{ACCOUNT_ARN}:endpoint-config/{name}"}
    described = client.describe_endpoint_config(EndpointConfigName=name)
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in described["ProductionVariants"]] == [
        ("blue", 0.7), ("green", 0.3)]
    assert described["ProductionVariants"][0]["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    listed = client.list_endpoint_configs(NameContains=name)["EndpointConfigs"]
    assert [c["EndpointConfigArn"] for c in listed] == [answer["EndpointConfigArn"]]
    assert client.delete_endpoint_config(EndpointConfigName=name) == {}
    with pytest.raises(ApiError, match="Could not find endpoint configuration"):
        client.describe_endpoint_config(EndpointConfigName=name)


def test_config_with_a_missing_model_names_its_arn(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.create_endpoint_config(EndpointConfigName=unique("config"),
                                      ProductionVariants=[variant("blue", "ghost-model")])
    assert caught.value.code == "ValidationException"
    assert f"{ACCOUNT_ARN}:model/ghost-model" in caught.value.message


@pytest.mark.parametrize(("weights", "expected"), [
    ((-1.0,), "initialVariantWeight"),
    ((0.0, 0.0), "at least one InitialVariantWeight"),
])
def test_invalid_weights(client: Client, weights: tuple[float, ...], expected: str) -> None:
    model = make_model(client)
    variants = [variant(f"v{i}", model, w) for i, w in enumerate(weights)]
    with pytest.raises(ApiError) as caught:
        client.create_endpoint_config(EndpointConfigName=unique("config"), ProductionVariants=variants)
    assert caught.value.code == "ValidationException" and expected in caught.value.message


def test_duplicate_variant_and_config_names(client: Client) -> None:
    model, name = make_model(client), unique("config")
    with pytest.raises(ApiError, match="duplicated: blue"):
        client.create_endpoint_config(EndpointConfigName=name,
                                      ProductionVariants=[variant("blue", model), variant("blue", model)])
    client.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant("blue", model)])
    with pytest.raises(ApiError, match="already exist"):
        client.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant("blue", model)])


def test_pagination_with_max_results_and_next_token(client: Client) -> None:
    prefix = unique("page")
    names = [make_model(client, f"{prefix}-{i}") for i in range(5)]
    first = client.list_models(NameContains=prefix, MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [m["ModelName"] for m in first["Models"]] == names[:2] and first["NextToken"]
    second = client.list_models(NameContains=prefix, MaxResults=2, SortBy="Name", SortOrder="Ascending",
                                NextToken=first["NextToken"])
    assert [m["ModelName"] for m in second["Models"]] == names[2:4]
    every = client.paginate(client.list_models, "Models", NameContains=prefix, MaxResults=2, SortBy="Name",
                            SortOrder="Ascending")
    assert [m["ModelName"] for m in every] == names
    with pytest.raises(ApiError, match="NextToken"):
        client.list_models(NextToken="not-a-token")


def test_tags(client: Client) -> None:
    name = make_model(client, Tags=[{"Key": "team", "Value": "risk"}])
    arn = client.describe_model(ModelName=name)["ModelArn"]
    assert client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "risk"}]
    client.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "prod"}, {"Key": "team", "Value": "ml"}])
    assert client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "prod"},
                                                        {"Key": "team", "Value": "ml"}]
    with pytest.raises(ApiError, match="maxResults"):  # ListTags takes 50..100
        client.list_tags(ResourceArn=arn, MaxResults=1)
    assert client.delete_tags(ResourceArn=arn, TagKeys=["team"]) == {}
    assert client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "prod"}]


def test_endpoint_errors(client: Client) -> None:
    calls: list[Callable[[], object]] = [
        lambda: client.describe_endpoint(EndpointName="ghost"),
        lambda: client.delete_endpoint(EndpointName="ghost"),
        lambda: client.update_endpoint_weights_and_capacities(
            EndpointName="ghost", DesiredWeightsAndCapacities=[{"VariantName": "a", "DesiredWeight": 1}]),
    ]
    for call in calls:
        with pytest.raises(ApiError) as caught:
            call()
        assert caught.value.code == "ValidationException"
        assert f"{ACCOUNT_ARN}:endpoint/ghost" in caught.value.message
    with pytest.raises(ApiError, match="endpoint-config/ghost-config"):
        client.create_endpoint(EndpointName=unique("endpoint"), EndpointConfigName="ghost-config")
    client.wait_for_deletion(EndpointName="ghost", Timeout=1)  # already gone
    assert client.list_endpoints(NameContains="ghost") == {"Endpoints": []}


def test_invoking_an_unknown_endpoint(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.invoke_endpoint(EndpointName="ghost", Body="1,2,3")
    assert (caught.value.status, caught.value.code) == (400, "ValidationError")
    assert "Endpoint ghost" in caught.value.message


def test_wait_for_endpoint_raises_with_the_failure_reason(client: Client) -> None:
    model = unique("model")
    client.create_model(ModelName=model, PrimaryContainer={"Image": "greenfleet/sklearn",
                                                           "ModelDataUrl": "/nonexistent/model.tar.gz"})
    config, endpoint = unique("config"), unique("endpoint")
    client.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant("only", model)])
    client.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    with pytest.raises(WaiterError, match=f"endpoint {endpoint} failed: ") as caught:
        client.wait_for_endpoint(EndpointName=endpoint, Timeout=60, Delay=0.1)
    assert caught.value.last["EndpointStatus"] == "Failed" and caught.value.last["FailureReason"]
    client.delete_endpoint(EndpointName=endpoint)
    client.wait_for_deletion(EndpointName=endpoint, Timeout=30, Delay=0.1)


def test_unreachable_server() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", timeout=2) as client, \
            pytest.raises(ServerUnreachable, match="cannot reach greenfleet"):
        client.list_models()


@pytest.mark.parametrize(("headers", "body", "code", "message"), [
    ({"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"}, {"message": "slow down"},
     "ThrottlingException", "slow down"),
    ({}, {"__type": "com.amazonaws.sagemaker#ResourceInUse", "Message": "busy"}, "ResourceInUse", "busy"),
    ({}, {"code": "ConflictException", "message": "raced"}, "ConflictException", "raced"),
    ({}, None, "HTTP502", "bad gateway"),
])
def test_error_codes_come_from_the_header_or_the_body(headers: dict[str, str], body: object, code: str,
                                                      message: str) -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(502, text="bad gateway", headers=headers)
        return httpx.Response(400, json=body, headers=headers)

    with Client("http://test", transport=httpx.MockTransport(answer)) as client, \
            pytest.raises(ApiError) as caught:
        client.list_endpoints()
    assert (caught.value.code, caught.value.message) == (code, message)
