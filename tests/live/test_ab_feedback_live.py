"""A/B tests with feedback, live: real server, real workers, real HTTP. Invocations get inference ids,
outcomes are recorded by id (idempotently; unknown and conflicting ones refused), a B whose simulated reward
is 20 % higher is declared the winner and traffic shifts to it through a guarded deployment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from greenfleet.cli.main import cli
from greenfleet.feedback.tables import feedback_outcomes
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST, Api
from tests.live.test_endpoints_live import csv_row

pytestmark = [pytest.mark.slow, pytest.mark.parallel]  # times nothing


@pytest.fixture
def ab_server(tmp_path: Path) -> Iterator[Server]:
    settings = Settings(home=tmp_path / "home", port=free_port(), experiment_promote_bake_s=1, **FAST)
    instance = Server(settings)
    instance.start_in_thread()
    yield instance
    instance.stop_thread()


@pytest.fixture
def ab_api(ab_server: Server) -> Iterator[Api]:
    client = Api(ab_server.settings.base_url)
    yield client
    client.http.close()


def invoke_and_reward(api: Api, features: np.ndarray, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    outcomes = []
    for index in range(n):
        response = api.invoke("shop", csv_row(features, index % len(features)))
        assert response.status_code == 200, response.text
        variant = response.headers["x-amzn-invoked-production-variant"]
        reward = rng.normal(1.2 if variant == "b" else 1.0, 0.5)
        outcomes.append({"InferenceId": response.headers["x-amzn-sagemaker-inference-id"], "Reward": reward})
    return outcomes


def test_b_twenty_percent_better_wins_and_traffic_shifts_to_it(ab_api: Api, ab_server: Server, sklearn_model: Path,
                                                               features: np.ndarray) -> None:
    api = ab_api
    api.deploy("shop", sklearn_model, {"a": (0.5, 1), "b": (0.5, 1)})
    refused = api.call("POST", "/api/ab-tests", {"Name": "t", "EndpointName": "shop", "VariantA": "a",
                                                 "VariantB": "nope"}, expect=400)
    assert "has no production variant nope" in refused["message"]
    api.call("POST", "/api/ab-tests", {"Name": "checkout", "EndpointName": "shop", "VariantA": "a", "VariantB": "b",
                                       "MinimumSamples": 100, "OnDecision": "ShiftTraffic"}, expect=201)
    twice = api.call("POST", "/api/ab-tests", {"Name": "again", "EndpointName": "shop", "VariantA": "a",
                                               "VariantB": "b"}, expect=400)
    assert "already runs A/B test checkout" in twice["message"]
    deadline = time.monotonic() + 10
    while not ab_server.router.table.get("shop").record_assignments:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)

    rng = np.random.default_rng(3)
    first = invoke_and_reward(api, features, rng, 20)
    answer = api.call("POST", "/api/endpoints/shop/feedback", {"Outcomes": first})  # at once: no pass in between
    assert answer == {"Recorded": 20, "Duplicates": 0, "Failed": []}
    # Bad input: the same outcome again (idempotent), another value for it, an id never served.
    again = api.call("POST", "/api/endpoints/shop/feedback", {"Outcomes": [
        first[0], {**first[1], "Reward": 99.0}, {"InferenceId": "never-served", "Reward": 1.0}]})
    assert (again["Recorded"], again["Duplicates"]) == (0, 1)
    assert [(f["InferenceId"], f["ErrorCode"]) for f in again["Failed"]] == [
        (first[1]["InferenceId"], "ConflictException"), ("never-served", "UnknownInferenceId")]
    both = api.call("POST", "/api/endpoints/shop/feedback", {"Outcomes": [
        {"InferenceId": "x", "Reward": 1.0, "Label": "1"}]}, expect=400)
    assert "give Reward or Label" in both["message"]

    status: dict[str, Any] = {}
    for _ in range(30):
        api.call("POST", "/api/endpoints/shop/feedback", {"Outcomes": invoke_and_reward(api, features, rng, 100)})
        time.sleep(0.3)  # a control pass looks
        status = api.call("GET", "/api/ab-tests/checkout")
        if status["Status"] == "Decided":
            break
    assert status["Decision"] == "B (b) better with 95% confidence", status
    variants = {v["VariantName"]: v for v in status["Variants"]}
    assert variants["a"]["N"] >= 100 and variants["b"]["N"] >= 100
    assert variants["b"]["Mean"] > variants["a"]["Mean"]
    assert status["Lift"]["AbsoluteInterval"][0] > 0  # the always-valid interval excludes no difference
    with ab_server.engine.connect() as conn:  # durable: the outcomes are rows of the store
        stored = conn.execute(select(func.count()).select_from(feedback_outcomes)).scalar_one()
    assert stored == variants["a"]["N"] + variants["b"]["N"]

    deadline = time.monotonic() + 60
    while True:  # ShiftTraffic: a guarded deployment to a config giving b all the traffic
        described = api.call("GET", "/api/endpoints/shop")
        if described["EndpointConfigName"] == "checkout-winner" and described["EndpointStatus"] == "InService":
            break
        assert time.monotonic() < deadline, described
        time.sleep(0.2)
    weights = {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}
    assert weights == {"a": 0.0, "b": 1.0}
    for index in range(20):
        assert api.invoke("shop", csv_row(features, index)).headers["x-amzn-invoked-production-variant"] == "b"
    shown = CliRunner().invoke(cli, ["abtest", "describe", "checkout", "--url", api.base_url], catch_exceptions=False)
    assert shown.exit_code == 0 and "B (b) better with 95% confidence" in shown.output, shown.output
    put = CliRunner().invoke(cli, ["feedback", "put", "shop", "--reward", f"{first[0]['InferenceId']}="
                                   f"{float(first[0]['Reward'])!r}", "--url", api.base_url], catch_exceptions=False)
    assert put.exit_code == 0 and "Recorded 0, duplicates 1, failed 0" in put.output, put.output
    events = api.call("GET", "/api/events", None)["Events"]
    assert any(e["detail-type"] == "A/B Test Decision" and e["detail"]["Decision"] == "B better" for e in events)
