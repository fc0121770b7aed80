"""The experiments and scaling pages' content over real HTTP from a real server (no browser): empty states,
an unknown experiment's 404 and the navigation entry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import httpx
import pytest

from greenfleet.dashboard.scaling import scaling_view
from greenfleet.scaling.service import ScalingService
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("experiment-pages")
    server = Server(Settings(home=root / "home", port=free_port(), **FAST))
    server.start_in_thread()
    with httpx.Client(base_url=server.settings.base_url) as http:
        yield http
    server.stop_thread()


def test_no_experiments_yet(client: httpx.Client) -> None:
    page = client.get("/ui/experiments")
    assert page.status_code == 200
    assert "No inference experiments." in page.text
    assert '<a href="/ui/experiments" aria-current="page">Experiments</a>' in page.text
    assert "No inference experiments." in client.get("/ui/fragments/experiments").text


def test_an_unknown_experiment_is_not_found(client: httpx.Client) -> None:
    page = client.get("/ui/experiments/nothing")
    assert page.status_code == 404 and "nothing" in page.text and "<h1>Not found</h1>" in page.text


def test_scaling_is_left_out_without_the_service_and_empty_without_variants() -> None:
    assert scaling_view(None, {"EndpointName": "e", "ProductionVariants": [{"VariantName": "a"}]}) is None
    assert scaling_view(cast(ScalingService, object()), {"EndpointName": "e", "ProductionVariants": []}) == {
        "Targets": [], "Policies": [], "Activities": []}


def test_no_ab_tests_yet_and_an_unknown_one_is_not_found(client: httpx.Client) -> None:
    assert "No A/B tests." in client.get("/ui/experiments").text
    page = client.get("/ui/ab-tests/nothing")
    assert page.status_code == 404 and "A/B test nothing does not exist" in page.text
