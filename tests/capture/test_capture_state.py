"""Data capture on the typed endpoint state: each fleet carries its config's DataCaptureConfig; the
routing table, Model Monitor's destination and DescribeEndpoint read the endpoint's current fleet; an
update switches capture when its fleet becomes current, and RetainAllVariantProperties keeps it."""

from __future__ import annotations

import pytest

from greenfleet.control.routing import build_routes
from greenfleet.errors import ValidationError
from greenfleet.monitoring.driver import capture_destination
from greenfleet.rollout import Limits
from greenfleet.services.deployments import DeploymentService
from tests.services.test_hosting import Hosting, config, model, variant

CAPTURE = {"InitialSamplingPercentage": 30, "DestinationS3Uri": "s3://bucket/capture/",
           "KmsKeyId": "alias/capture", "CaptureOptions": [{"CaptureMode": "Input"}],
           "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}
OFF = {**CAPTURE, "EnableCapture": False, "DestinationS3Uri": "s3://bucket/off", "InitialSamplingPercentage": 5}


@pytest.fixture
def hosting(database_url: str) -> Hosting:
    hosting = Hosting(database_url)
    hosting.models.create_model(model())
    hosting.models.create_endpoint_config({**config("on", variant()), "DataCaptureConfig": CAPTURE})
    hosting.models.create_endpoint_config({**config("off", variant()), "DataCaptureConfig": OFF})
    hosting.models.create_endpoint_config(config("none", variant()))
    return hosting


def serve(hosting: Hosting, endpoint: str, config_name: str) -> None:
    hosting.endpoints.create_endpoint({"EndpointName": endpoint, "EndpointConfigName": config_name})
    row = hosting.repo.get_endpoint(endpoint)
    assert row is not None
    hosting.repo.update_endpoint(endpoint, row["revision"], {"status": "InService"})


def test_the_current_fleet_carries_the_capture_and_every_reader_sees_it(hosting: Hosting) -> None:
    serve(hosting, "e", "on")
    row = hosting.repo.get_endpoint("e")
    assert row is not None
    capture = row["state"].current.data_capture
    assert capture is not None and capture.EnableCapture and capture.InitialSamplingPercentage == 30
    assert hosting.models.describe_endpoint_config({"EndpointConfigName": "on"})["DataCaptureConfig"][
        "EnableCapture"] is True  # stored with SageMaker's default made explicit
    assert hosting.endpoints.describe_endpoint({"EndpointName": "e"})["DataCaptureConfig"] == {
        "EnableCapture": True, "CaptureStatus": "Started", "CurrentSamplingPercentage": 30,
        "DestinationS3Uri": "s3://bucket/capture/", "KmsKeyId": "alias/capture"}
    setting = build_routes([row], [])["e"].capture
    assert setting is not None and setting.destination == "s3://bucket/capture"
    assert (setting.capture_input, setting.capture_output, setting.sampling_percentage) == (True, False, 30)
    assert setting.encoding_of("text/csv; charset=utf-8") == "CSV" and setting.encoding_of("image/png") == "BASE64"
    assert capture_destination(hosting.repo, "e") == "s3://bucket/capture"


def test_disabled_or_absent_capture_captures_nothing_and_says_so(hosting: Hosting) -> None:
    serve(hosting, "off", "off")
    serve(hosting, "none", "none")
    summary = hosting.endpoints.describe_endpoint({"EndpointName": "off"})["DataCaptureConfig"]
    assert summary["EnableCapture"] is False and summary["CaptureStatus"] == "Stopped"
    assert "DataCaptureConfig" not in hosting.endpoints.describe_endpoint({"EndpointName": "none"})
    rows = [hosting.repo.get_endpoint("off"), hosting.repo.get_endpoint("none")]
    routes = build_routes([r for r in rows if r is not None], [])
    assert routes["off"].capture is None and routes["none"].capture is None
    assert capture_destination(hosting.repo, "off") is None and capture_destination(hosting.repo, "none") is None
    assert capture_destination(hosting.repo, "missing") is None


@pytest.mark.parametrize(("retain", "excluded", "expected"), [
    (False, [], "s3://bucket/off"),
    (True, [], "s3://bucket/capture/"),
    (True, [{"VariantPropertyType": "DataCaptureConfig"}], "s3://bucket/off"),
])
def test_an_update_carries_the_new_fleets_capture_or_retains_the_current_one(
        hosting: Hosting, retain: bool, excluded: list[dict[str, str]], expected: str) -> None:
    serve(hosting, "e", "on")
    deployments = DeploymentService(hosting.repo, hosting.endpoints, hosting.clock, Limits(), strict_minimums=True)
    params: dict[str, object] = {"EndpointName": "e", "EndpointConfigName": "off"}
    if retain:
        params.update(RetainAllVariantProperties=True, ExcludeRetainedVariantProperties=excluded)
    deployments.update_endpoint(params)
    row = hosting.repo.get_endpoint("e")
    assert row is not None and row["state"].pending is not None
    pending = row["state"].pending.data_capture
    assert pending is not None and pending.DestinationS3Uri == expected
    # Until the new fleet is current, the endpoint captures (and says it captures) as before.
    assert hosting.endpoints.describe_endpoint({"EndpointName": "e"})["DataCaptureConfig"]["CaptureStatus"] == \
        "Started"
    assert capture_destination(hosting.repo, "e") == "s3://bucket/capture"


@pytest.mark.parametrize(("capture", "message"), [
    ({**CAPTURE, "DestinationS3Uri": "/var/capture"}, "KmsKeyId: a KMS key encrypts captured data in S3 only"),
    ({**CAPTURE, "DestinationS3Uri": "ftp://host/x"}, "is not a local path, file:// or s3:// location"),
    ({**CAPTURE, "DestinationS3Uri": "s3:///x"}, "names no bucket"),
])
def test_a_capture_config_greenfleet_cannot_honour_is_refused_and_not_stored(
        hosting: Hosting, capture: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        hosting.models.create_endpoint_config({**config("bad", variant()), "DataCaptureConfig": capture})
    assert "bad" not in [c["EndpointConfigName"] for c in
                         hosting.models.list_endpoint_configs({})["EndpointConfigs"]]
