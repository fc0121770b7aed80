"""Each operation is declared once (greenfleet.operations) and has everything that follows from it: its
REST route, its wire name in SageMaker's or CloudWatch's protocol, its Python client method (whose
keywords are the wire operation's members) and its CLI command."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import click
import pytest
from fastapi.testclient import TestClient

from greenfleet.api.app import create_app
from greenfleet.api.aws import cloudwatch
from greenfleet.api.routes.aws import AUTOSCALING_OPERATIONS, SAGEMAKER_OPERATIONS
from greenfleet.cli.main import cli
from greenfleet.client import Client
from greenfleet.experiments.service import ExperimentService
from greenfleet.monitoring.definitions import JobDefinitionService
from greenfleet.monitoring.service import MonitoringService
from greenfleet.operations import OPERATIONS, Operation
from greenfleet.registry.packages import RegistryService
from greenfleet.resources.servicemodel import service_model
from greenfleet.scaling.service import ScalingService
from greenfleet.services import Services
from greenfleet.services.deployments import DeploymentService
from greenfleet.services.endpoints import EndpointService
from greenfleet.services.models import ModelService
from greenfleet.services.tags import TagService


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    app = create_app(SimpleNamespace())  # type: ignore[arg-type]  # the document needs no service
    document: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    return document


def _command(path: str) -> click.Command | None:
    command: click.Command | None = cli
    with click.Context(cli) as context:
        for word in path.split():
            if not isinstance(command, click.Group):
                return None
            command = command.get_command(context, word)
    return command


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_every_operation_has_its_route_client_method_and_cli_command(op: Operation, openapi: dict[str, Any]) -> None:
    for which, route in enumerate(op.routes):
        if route.path.startswith("/api/"):
            entry = openapi["paths"][route.path][route.method.lower()]
            assert entry["operationId"] == (op.name if which == 0 else f"{op.name}_{which}")
            assert str(route.status) in entry["responses"]
        else:  # sagemaker-runtime, in front of the application (greenfleet.api.gateway)
            assert op.wire == "sagemaker-runtime"
            assert route.path in ("/endpoints/{name}/invocations", "/endpoints/{name}/async-invocations")
    assert callable(getattr(Client, op.client, None)), f"Client.{op.client}"
    assert op.cli, f"{op.name} has no CLI command"
    for path in op.cli:
        assert _command(path) is not None, f"greenfleet {path}"


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.wire is not None], ids=lambda op: op.name)
def test_wire_operations_are_botocores_and_the_client_takes_their_members(op: Operation) -> None:
    assert op.wire is not None
    model = service_model(op.wire)
    assert op.name in model.operation_names
    shape = model.operation_model(op.name).input_shape
    members = set(shape.members) if shape is not None else set()
    keywords = [p.name for p in inspect.signature(getattr(Client, op.client)).parameters.values()
                if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"]
    assert set(keywords) <= members, f"Client.{op.client} takes members {op.name} does not have"


def test_the_wire_protocols_serve_exactly_the_declared_operations() -> None:
    declared = {op.wire: {o.name for o in OPERATIONS if o.wire == op.wire} for op in OPERATIONS}
    assert set(SAGEMAKER_OPERATIONS) == declared["sagemaker"]
    assert set(cloudwatch.OPERATIONS) == declared["cloudwatch"]
    classes = {"models": ModelService, "endpoints": EndpointService, "deployments": DeploymentService,
               "tags": TagService, "registry": RegistryService, "monitoring": MonitoringService,
               "monitoring_jobs": JobDefinitionService, "experiments": ExperimentService}
    assert set(classes) <= set(Services.__dataclass_fields__)
    for attribute, method in SAGEMAKER_OPERATIONS.values():
        assert callable(getattr(classes[attribute], method, None)), f"{attribute}.{method}"
    assert set(AUTOSCALING_OPERATIONS) == declared["application-autoscaling"]
    for attribute, method in AUTOSCALING_OPERATIONS.values():
        assert attribute == "scaling" and callable(getattr(ScalingService, method, None)), f"{attribute}.{method}"


def test_every_rest_route_is_a_declared_operation(openapi: dict[str, Any]) -> None:
    names = {op.name for op in OPERATIONS}
    for path, item in openapi["paths"].items():
        if path.startswith("/api/"):
            for method, entry in item.items():
                assert entry["operationId"].split("_")[0] in names, f"{method.upper()} {path}"
