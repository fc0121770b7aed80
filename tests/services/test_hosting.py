"""Models, endpoint configs and endpoints: validation and persistence, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from greenfleet.clock import FakeClock
from greenfleet.errors import ValidationError
from greenfleet.resources.names import ArnFactory
from greenfleet.services.endpoints import EndpointService
from greenfleet.services.models import ModelService
from greenfleet.services.tags import TagService
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.repository import Repository


class Hosting:
    def __init__(self, url: str) -> None:
        self.engine = create_store_engine(url)
        migrate(self.engine)
        repo = Repository(self.engine)
        self.clock = FakeClock()
        arns = ArnFactory("us-east-1", "123456789012")
        tags = TagService(repo)
        self.tags = tags
        self.models = ModelService(repo, arns, self.clock, tags)
        self.endpoints = EndpointService(repo, arns, self.clock, self.models, tags)
        self.repo = repo


@pytest.fixture
def hosting(database_url: str) -> Hosting:
    return Hosting(database_url)


def model(name: str = "m1", **extra: object) -> dict[str, object]:
    return {"ModelName": name, "PrimaryContainer": {"Image": "greenfleet/sklearn", "ModelDataUrl": "/tmp/x"}, **extra}


def config(name: str = "c1", *variants: dict[str, object]) -> dict[str, object]:
    return {"EndpointConfigName": name, "ProductionVariants": list(variants) or [variant()]}


def variant(name: str = "v1", model_name: str = "m1", weight: float = 1.0, count: int = 1) -> dict[str, object]:
    return {
        "VariantName": name,
        "ModelName": model_name,
        "InitialInstanceCount": count,
        "InstanceType": "ml.m5.large",
        "InitialVariantWeight": weight,
    }


def test_model_round_trip_and_tags(hosting: Hosting) -> None:
    arn = hosting.models.create_model(model(Tags=[{"Key": "team", "Value": "risk"}]))["ModelArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:model/m1"
    described = hosting.models.describe_model({"ModelName": "m1"})
    assert described["PrimaryContainer"]["Image"] == "greenfleet/sklearn"
    assert described["CreationTime"] == hosting.clock.now()
    assert hosting.tags.list_tags({"ResourceArn": arn})["Tags"] == [{"Key": "team", "Value": "risk"}]
    hosting.models.delete_model({"ModelName": "m1"})
    with pytest.raises(
        ValidationError, match='Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/m1"'
    ):
        hosting.models.describe_model({"ModelName": "m1"})
    assert hosting.tags.list_tags({"ResourceArn": arn})["Tags"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ModelName": "bad_name", "PrimaryContainer": {"Image": "x"}}, "at 'modelName' failed to satisfy"),
        ({"PrimaryContainer": {"Image": "x"}}, "Value null at 'modelName'"),
        ({"ModelName": "m", "PrimaryContainer": {"Image": "x", "Bogus": 1}}, "Unknown member 'primaryContainer.bogus'"),
        ({"ModelName": "m"}, "Exactly one of PrimaryContainer or Containers"),
        ({"ModelName": "m", "PrimaryContainer": {"ModelDataUrl": "s3://b/k"}}, "PrimaryContainer.Image"),
        (
            {"ModelName": "m", "PrimaryContainer": {"Image": "x", "Environment": {"1BAD": "v"}}},
            "primaryContainer.environment.key",
        ),
    ],
)
def test_model_validation_names_the_field(hosting: Hosting, params: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(".", r"\.")):
        hosting.models.create_model(params)
    assert hosting.models.list_models({})["Models"] == []


def test_duplicate_model_is_rejected_and_the_first_is_kept(hosting: Hosting) -> None:
    hosting.models.create_model(model())
    with pytest.raises(ValidationError, match="Cannot create already existing model"):
        hosting.models.create_model(model(PrimaryContainer={"Image": "other"}))
    assert hosting.models.describe_model({"ModelName": "m1"})["PrimaryContainer"]["Image"] == "greenfleet/sklearn"


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ([], "productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1"),
        ([variant(f"v{i}") for i in range(11)], "length less than or equal to 10"),
        ([variant("a"), variant("a")], "Variant names must be unique; duplicated: a"),
        ([variant(weight=-1)], "initialVariantWeight' failed to satisfy constraint: Member must have value greater"),
        ([variant(weight=0), variant("v2", weight=0)], "at least one InitialVariantWeight must be greater than 0"),
        (
            [variant(model_name="missing")],
            'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/missing"',
        ),
        ([variant(count=0)], "initialInstanceCount' failed to satisfy constraint"),
        (
            [{**variant(), "InstanceType": "ml.bogus"}],
            "instanceType' failed to satisfy constraint: Member must satisfy enum",
        ),
        ([{**variant(), "RoutingConfig": {"RoutingStrategy": "ROUND_ROBIN"}}], "routingStrategy"),
    ],
)
def test_endpoint_config_validation(hosting: Hosting, variants: list[dict[str, object]], message: str) -> None:
    hosting.models.create_model(model())
    with pytest.raises(ValidationError) as info:
        hosting.models.create_endpoint_config({"EndpointConfigName": "c1", "ProductionVariants": variants})
    assert message in info.value.message
    assert hosting.models.list_endpoint_configs({})["EndpointConfigs"] == []


def test_endpoint_config_defaults(hosting: Hosting) -> None:
    hosting.models.create_model(model())
    hosting.models.create_endpoint_config(
        {
            "EndpointConfigName": "c1",
            "ProductionVariants": [
                {"VariantName": "v1", "ModelName": "m1", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
            ],
        }
    )
    described = hosting.models.describe_endpoint_config({"EndpointConfigName": "c1"})
    assert described["ProductionVariants"][0]["InitialVariantWeight"] == 1.0
    assert described["ProductionVariants"][0]["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}


def test_a_shadow_variant_is_a_fleet_of_its_own_mirroring_the_production_variant(hosting: Hosting) -> None:
    hosting.models.create_model(model())
    hosting.models.create_model(model("m2"))
    hosting.models.create_endpoint_config({"EndpointConfigName": "c1", "ProductionVariants": [variant("v1")],
                                           "ShadowProductionVariants": [variant("shadow", "m2")]})
    hosting.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})
    state = hosting.endpoints.endpoint("e1")["state"]
    assert [(f.role, f.traffic, f.source_variant, [v.name for v in f.variants]) for f in state.fleets] == [
        ("production", 100.0, None, ["v1"]), ("shadow", 100.0, "v1", ["shadow"])]
    described = hosting.endpoints.describe_endpoint({"EndpointName": "e1"})
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["shadow"]


@pytest.mark.parametrize(("production", "shadows"), [(2, 1), (1, 2)])
def test_a_shadow_needs_exactly_one_production_and_one_shadow_variant(hosting: Hosting, production: int,
                                                                      shadows: int) -> None:
    hosting.models.create_model(model())
    with pytest.raises(ValidationError, match="exactly one variant in ProductionVariants and one in "
                                              "ShadowProductionVariants"):
        hosting.models.create_endpoint_config({
            "EndpointConfigName": "c1", "ProductionVariants": [variant(f"p{i}") for i in range(production)],
            "ShadowProductionVariants": [variant(f"s{i}") for i in range(shadows)]})
    assert hosting.models.list_endpoint_configs({})["EndpointConfigs"] == []


def test_endpoint_lifecycle_records_desired_state(hosting: Hosting) -> None:
    hosting.models.create_model(model())
    hosting.models.create_endpoint_config(
        config("c1", variant("blue", weight=0.7), variant("green", weight=0.3, count=2))
    )
    hosting.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})
    described = hosting.endpoints.describe_endpoint({"EndpointName": "e1"})
    assert described["EndpointStatus"] == "Creating"
    blue, green = described["ProductionVariants"]
    assert (blue["DesiredWeight"], blue["DesiredInstanceCount"], blue["CurrentInstanceCount"]) == (0.7, 1, 0)
    assert (green["DesiredWeight"], green["DesiredInstanceCount"]) == (0.3, 2)
    with pytest.raises(ValidationError, match="Cannot update in-progress endpoint"):
        hosting.endpoints.update_weights_and_capacities(
            {"EndpointName": "e1", "DesiredWeightsAndCapacities": [{"VariantName": "blue", "DesiredWeight": 1}]}
        )
    with pytest.raises(ValidationError, match="Cannot create already existing endpoint"):
        hosting.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})
    with pytest.raises(ValidationError, match="Could not find endpoint configuration"):
        hosting.endpoints.create_endpoint({"EndpointName": "e2", "EndpointConfigName": "nope"})
    hosting.endpoints.delete_endpoint({"EndpointName": "e1"})
    assert hosting.endpoints.describe_endpoint({"EndpointName": "e1"})["EndpointStatus"] == "Deleting"


def test_update_weights_validation(hosting: Hosting) -> None:
    hosting.models.create_model(model())
    hosting.models.create_endpoint_config(config("c1", variant("a"), variant("b")))
    hosting.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})
    row = hosting.repo.get_endpoint("e1")
    assert row is not None
    hosting.repo.update_endpoint("e1", row["revision"], {"status": "InService"})

    def update(*entries: dict[str, object]) -> None:
        hosting.endpoints.update_weights_and_capacities(
            {"EndpointName": "e1", "DesiredWeightsAndCapacities": list(entries)}
        )

    with pytest.raises(ValidationError, match='"zzz" is/are not present'):
        update({"VariantName": "zzz", "DesiredWeight": 1})
    with pytest.raises(ValidationError, match="give DesiredWeight or DesiredInstanceCount"):
        update({"VariantName": "a"})
    with pytest.raises(ValidationError, match="at least one variant must keep a weight above 0"):
        update({"VariantName": "a", "DesiredWeight": 0}, {"VariantName": "b", "DesiredWeight": 0})
    update({"VariantName": "a", "DesiredWeight": 3, "DesiredInstanceCount": 2})
    described = hosting.endpoints.describe_endpoint({"EndpointName": "e1"})
    assert described["EndpointStatus"] == "Updating"
    assert described["ProductionVariants"][0]["DesiredWeight"] == 3.0
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == 2


def test_a_config_shadow_takes_weights_and_capacities_as_its_sampling_share_and_fleet_size(hosting: Hosting) -> None:
    hosting.models.create_model(model())
    hosting.models.create_model(model("m2"))
    hosting.models.create_endpoint_config({"EndpointConfigName": "c1", "ProductionVariants": [variant("v1")],
                                           "ShadowProductionVariants": [variant("shadow", "m2", weight=0.25)]})
    hosting.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})

    def shadow_fleet() -> tuple[float, float, int]:
        fleet = hosting.endpoints.endpoint("e1")["state"].shadows[0]
        return fleet.traffic, fleet.variants[0].desired_weight, fleet.variants[0].desired_count

    assert shadow_fleet() == (25.0, 0.25, 1)  # its weight over production's: a quarter of the requests
    row = hosting.endpoints.endpoint("e1")
    hosting.repo.update_endpoint("e1", row["revision"], {"status": "InService"})
    hosting.endpoints.update_weights_and_capacities({"EndpointName": "e1", "DesiredWeightsAndCapacities": [
        {"VariantName": "shadow", "DesiredWeight": 0.5, "DesiredInstanceCount": 3}]})
    assert shadow_fleet() == (50.0, 0.5, 3)
    described = hosting.endpoints.describe_endpoint({"EndpointName": "e1"})
    assert described["EndpointStatus"] == "Updating"
    assert [(v["DesiredWeight"], v["DesiredInstanceCount"]) for v in described["ShadowProductionVariants"]] == \
        [(0.5, 3)]
    row = hosting.endpoints.endpoint("e1")
    hosting.repo.update_endpoint("e1", row["revision"], {"status": "InService"})
    # Production's weight halves: the same shadow weight is now every request (capped at 100 %).
    hosting.endpoints.update_weights_and_capacities({"EndpointName": "e1", "DesiredWeightsAndCapacities": [
        {"VariantName": "v1", "DesiredWeight": 0.25}]})
    assert shadow_fleet() == (100.0, 0.5, 3)
    row = hosting.endpoints.endpoint("e1")
    hosting.repo.update_endpoint("e1", row["revision"], {"status": "InService"})
    hosting.endpoints.update_weights_and_capacities({"EndpointName": "e1", "DesiredWeightsAndCapacities": [
        {"VariantName": "shadow", "DesiredWeight": 0}]})
    assert shadow_fleet() == (0.0, 0.0, 3)  # a shadow weighing 0 gets no copy; production still answers all
    # An experiment's shadow is the experiment's to change.
    row = hosting.endpoints.endpoint("e1")
    state = row["state"].copy_deep()
    state.shadows[0].experiment = "exp"
    hosting.repo.update_endpoint("e1", row["revision"], {"status": "InService", "state": state})
    with pytest.raises(ValidationError, match=r'shadow variant of inference experiment "exp".*UpdateInference'):
        hosting.endpoints.update_weights_and_capacities({"EndpointName": "e1", "DesiredWeightsAndCapacities": [
            {"VariantName": "shadow", "DesiredInstanceCount": 2}]})
    assert shadow_fleet() == (0.0, 0.0, 3)


def test_list_filters_sorting_and_pagination(hosting: Hosting) -> None:
    for index in range(7):
        hosting.models.create_model(model(f"model-{index}"))
        hosting.clock.advance(10)
    first = hosting.models.list_models({"MaxResults": 3, "SortBy": "Name", "SortOrder": "Ascending"})
    assert [m["ModelName"] for m in first["Models"]] == ["model-0", "model-1", "model-2"]
    second = hosting.models.list_models(
        {"MaxResults": 3, "SortBy": "Name", "SortOrder": "Ascending", "NextToken": first["NextToken"]}
    )
    assert [m["ModelName"] for m in second["Models"]] == ["model-3", "model-4", "model-5"]
    newest = hosting.models.list_models({"MaxResults": 2})
    assert [m["ModelName"] for m in newest["Models"]] == ["model-6", "model-5"]
    assert [m["ModelName"] for m in hosting.models.list_models({"NameContains": "L-3"})["Models"]] == ["model-3"]
    with pytest.raises(ValidationError, match="Invalid NextToken"):
        hosting.models.list_models({"NextToken": "garbage"})


def test_everything_survives_a_new_process_on_the_same_store(database_url: str) -> None:
    first = Hosting(database_url)
    first.models.create_model(model())
    first.models.create_endpoint_config(config())
    first.endpoints.create_endpoint({"EndpointName": "e1", "EndpointConfigName": "c1"})
    first.engine.dispose()
    second = Hosting(database_url)
    assert second.endpoints.describe_endpoint({"EndpointName": "e1"})["EndpointConfigName"] == "c1"
    assert second.models.describe_model({"ModelName": "m1"})["ModelName"] == "m1"


def test_data_capture_is_refused_on_serverless_variants(hosting: Hosting) -> None:
    hosting.models.create_model(model())
    with pytest.raises(ValidationError) as info:
        hosting.models.create_endpoint_config({
            "EndpointConfigName": "c-sls",
            "ProductionVariants": [{"VariantName": "v1", "ModelName": "m1",
                                    "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}],
            "DataCaptureConfig": {"InitialSamplingPercentage": 20, "DestinationS3Uri": "s3://bucket/capture",
                                  "CaptureOptions": [{"CaptureMode": "Input"}]}})
    assert "not supported on serverless variants (v1)" in info.value.message
