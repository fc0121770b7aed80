"""UpdateEndpoint's bookkeeping: variant-property retention, RetainDeploymentConfig, and rejection of an
update while one runs (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from greenfleet.errors import ValidationError
from greenfleet.rollout import Limits, RolloutState
from greenfleet.services.deployments import DeploymentService, load_rollout
from tests.services.test_hosting import Hosting, config, model, variant

CANARY = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 60,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        },
        "MaximumExecutionTimeoutInSeconds": 1800,
    }
}


@pytest.fixture
def hosting(database_url: str) -> Hosting:
    hosting = Hosting(database_url)
    hosting.models.create_model(model())
    hosting.models.create_endpoint_config(config("c1", variant("a", count=1), variant("b", count=1)))
    hosting.models.create_endpoint_config(config("c2", variant("a", count=1), variant("b", count=1)))
    hosting.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1", "DeploymentConfig": CANARY})
    row = hosting.repo.get_endpoint("e")
    assert row is not None
    hosting.repo.update_endpoint("e", row["revision"], {"status": "InService"})
    return hosting


def service(hosting: Hosting) -> DeploymentService:
    return DeploymentService(hosting.repo, hosting.endpoints, hosting.clock, Limits(), strict_minimums=True)


def reweigh(hosting: Hosting) -> None:
    hosting.endpoints.update_weights_and_capacities(
        {
            "EndpointName": "e",
            "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredWeight": 3, "DesiredInstanceCount": 2}],
        }
    )
    row = hosting.repo.get_endpoint("e")
    assert row is not None
    hosting.repo.update_endpoint("e", row["revision"], {"status": "InService"})


def stored_rollout(hosting: Hosting) -> RolloutState:
    row = hosting.repo.get_endpoint("e")
    assert row is not None and row["state"].deployment is not None
    deployment = hosting.repo.get_deployment(row["state"].deployment.id)
    assert deployment is not None
    return load_rollout(deployment["state"])


def green(hosting: Hosting) -> dict[str, tuple[int, float]]:
    rollout = stored_rollout(hosting)
    return {v.name: (v.instance_count, v.weight) for v in rollout.green.variants}


def test_without_retention_the_new_config_applies(hosting: Hosting) -> None:
    reweigh(hosting)
    service(hosting).update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2"})
    assert green(hosting) == {"a": (1, 1.0), "b": (1, 1.0)}


def test_retain_all_variant_properties_keeps_current_weights_and_counts(hosting: Hosting) -> None:
    reweigh(hosting)
    service(hosting).update_endpoint(
        {"EndpointName": "e", "EndpointConfigName": "c2", "RetainAllVariantProperties": True}
    )
    assert green(hosting) == {"a": (2, 3.0), "b": (1, 1.0)}


def test_excluded_properties_come_from_the_new_config(hosting: Hosting) -> None:
    reweigh(hosting)
    service(hosting).update_endpoint(
        {
            "EndpointName": "e",
            "EndpointConfigName": "c2",
            "RetainAllVariantProperties": True,
            "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DesiredWeight"}],
        }
    )
    assert green(hosting) == {"a": (2, 1.0), "b": (1, 1.0)}


def test_retain_deployment_config_reuses_the_last_one_and_updates_are_exclusive(hosting: Hosting) -> None:
    deployments = service(hosting)
    deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2", "RetainDeploymentConfig": True})
    row = hosting.repo.get_endpoint("e")
    assert row is not None and row["status"] == "Updating"
    rollout = stored_rollout(hosting)
    assert rollout.deployment_config == CANARY and str(rollout.strategy).lower().endswith("canary")
    with pytest.raises(ValidationError, match="Cannot update in-progress endpoint"):
        deployments.update_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
    with pytest.raises(ValidationError, match="not both"):
        hosting.repo.update_endpoint("e", row["revision"], {"status": "InService"})
        deployments.update_endpoint(
            {
                "EndpointName": "e",
                "EndpointConfigName": "c1",
                "RetainDeploymentConfig": True,
                "DeploymentConfig": CANARY,
            }
        )


def test_bad_deployment_configs_are_rejected_with_the_field_path(hosting: Hosting) -> None:
    bad = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 60}}}
    with pytest.raises(ValidationError, match="CanarySize"):
        service(hosting).update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2", "DeploymentConfig": bad})
    row = hosting.repo.get_endpoint("e")
    assert row is not None and row["status"] == "InService" and row["state"].deployment is None


def test_a_judged_update_to_the_config_already_running_is_rejected(hosting: Hosting) -> None:
    judged = {"GreenfleetRollout": {
        "Steps": [{"TrafficPercent": 50, "BakeInSeconds": 60}, {"TrafficPercent": 100}],
        "Judge": {"Metrics": [{"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY"}]}}}
    with pytest.raises(ValidationError, match="already runs EndpointConfigName 'c1'"):
        service(hosting).update_endpoint({"EndpointName": "e", "EndpointConfigName": "c1", "DeploymentConfig": judged})
    row = hosting.repo.get_endpoint("e")
    assert row is not None and row["status"] == "InService" and row["state"].deployment is None
    service(hosting).update_endpoint({"EndpointName": "e", "EndpointConfigName": "c2", "DeploymentConfig": judged})
    row = hosting.repo.get_endpoint("e")
    assert row is not None and row["status"] == "Updating" and row["state"].pending.config_name == "c2"
