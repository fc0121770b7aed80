"""A highly available control plane: two greenfleet servers (own OS processes, own homes) on one
PostgreSQL database. The leader runs the controllers; the follower answers the API and serves from the
routing table the leader stores. SIGKILL of the leader mid-rollout: the follower takes over within 5 s,
adopts the instances and finishes (or rolls back) the deployment, with zero failed requests through its
router."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.capture.test_capture_live import records
from tests.conftest import PG_ADMIN_URL, _pg_reachable, free_port
from tests.live.conftest import FAST, Api, _kill_leftover_workers
from tests.live.test_deployments_live import Load, new_config, wait_done
from tests.live.test_endpoints_live import csv_row
from tests.live.test_shadow_live import metric_sum

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
LEADS = "leads the control plane"


@pytest.fixture
def shared_database() -> Iterator[str]:
    problem = _pg_reachable()
    if problem:
        pytest.skip(problem)
    import psycopg

    name = f"gf_ha_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class HaServer:
    def __init__(self, root: Path, database_url: str) -> None:
        self.home, self.port, self.log = root / "home", free_port(), root / "server.log"
        self.home.mkdir(parents=True)
        env = {**os.environ, "GREENFLEET_HOME": str(self.home), "GREENFLEET_PORT": str(self.port),
               "GREENFLEET_DATABASE_URL": database_url, "GREENFLEET_HA": "true",
               **{f"GREENFLEET_{k.upper()}": str(v) for k, v in FAST.items()}}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "greenfleet", "server"], env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        self.api = Api(f"http://127.0.0.1:{self.port}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not start: " + self.log.read_text()[-2000:])

    def leads(self) -> bool:
        return LEADS in self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)
        self.api.http.close()
        _kill_leftover_workers(self.home)


def history_outcome(api: Api) -> str:
    return str(api.call("GET", "/api/endpoints/ha/deployments")["Deployments"][0].get("Outcome"))


def canary_serves(api: Api) -> bool:
    pending = api.call("GET", "/api/endpoints/ha").get("PendingDeploymentSummary") or {}
    return any(v["CurrentWeight"] > 0 and v["CurrentInstanceCount"] >= 1 for v in pending.get("ProductionVariants", []))


@pytest.fixture
def pair(shared_database: str, tmp_path: Path) -> Iterator[tuple[HaServer, HaServer]]:
    """Two servers on one database, the first started first and leading; both stopped at the end."""
    first = HaServer(tmp_path / "a", shared_database)
    second = None
    try:
        assert first.leads()
        second = HaServer(tmp_path / "b", shared_database)
        yield first, second
    finally:
        first.stop()
        if second is not None:
            second.stop()


def deploy_blue(api: Api, model: Path, count: int, served_by: Api | None, row: str) -> None:
    """Endpoint "ha" on config "blue", InService through ``api``; then, if given, until ``served_by``'s router
    answers it (its routing table caught up)."""
    new_config(api, "ha", "blue", model, count=count)
    api.call("POST", "/api/endpoints", {"EndpointName": "ha", "EndpointConfigName": "blue"})
    api.wait_status("ha", "InService")
    deadline = time.monotonic() + 10
    while served_by is not None and served_by.invoke("ha", row).status_code != 200:  # refusals are not invocations
        assert time.monotonic() < deadline, "the router never served the endpoint"
        time.sleep(0.1)


def test_sigkill_of_the_leader_mid_rollout_the_follower_takes_over(
        pair: tuple[HaServer, HaServer], sklearn_model: Path, features: np.ndarray) -> None:
    first, second = pair
    time.sleep(1)
    assert not second.leads()  # one leader
    api = second.api  # everything through the follower: its API and its router
    deploy_blue(api, sklearn_model, 2, api, csv_row(features))
    new_config(api, "ha", "green", sklearn_model, count=2)
    policy = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "WaitIntervalInSeconds": 8, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
        "TerminationWaitInSeconds": 0, "MaximumExecutionTimeoutInSeconds": 300}}
    with Load(api, "ha", csv_row(features), clients=4) as load:
        api.call("POST", "/api/endpoints/ha/update", {"EndpointConfigName": "green", "DeploymentConfig": policy})
        deadline = time.monotonic() + 30
        while not canary_serves(api):  # mid-rollout: the canary takes its share of the traffic
            assert time.monotonic() < deadline, "the canary never served"
            time.sleep(0.1)
        time.sleep(1)
        first.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.process.wait(10)
        while not second.leads():
            assert time.monotonic() - killed_at < 10, "the follower did not take over"
            time.sleep(0.05)
        failover_s = time.monotonic() - killed_at
        described = wait_done(api, "ha", timeout_s=120)
        time.sleep(1)
    print(f"failover {failover_s:.2f} s; outcome {history_outcome(api)}; served {sum(load.served.values())}")
    assert failover_s < 5, failover_s
    assert described["EndpointStatus"] == "InService", described
    assert described["EndpointConfigName"] in ("green", "blue")  # finished, or rolled back
    history = api.call("GET", "/api/endpoints/ha/deployments")["Deployments"]
    assert history[0]["Outcome"] in ("SUCCEEDED", "ROLLED_BACK"), history[0]
    assert load.failures == [], load.failures[:5]
    assert sum(load.served.values()) > 50
    assert api.invoke("ha", csv_row(features)).status_code == 200


def invocations_through(api: Api, endpoint: str, metric: str, since: float) -> float:
    stats = api.call("POST", "/api/metric-statistics", {
        "Namespace": "AWS/SageMaker", "MetricName": metric, "Statistics": ["Sum"], "Period": 60,
        "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "main"}],
        "StartTime": since - 120, "EndTime": time.time() + 60})
    return float(sum(p["Sum"] for p in stats["Datapoints"]))


def test_both_routers_metrics_add_up_and_an_alarm_sees_errors_sent_through_the_follower(
        pair: tuple[HaServer, HaServer], sklearn_model: Path, features: np.ndarray) -> None:
    first, second = pair
    leader, follower = first.api, second.api
    since = time.time()
    deploy_blue(leader, sklearn_model, 1, follower, csv_row(features))
    answered = 1  # the follower's first answer
    leader.call("PUT", "/api/alarms/ha-4xx", {
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation4XXErrors", "Statistic": "Sum", "Period": 10,
        "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "Dimensions": [{"Name": "EndpointName", "Value": "ha"}, {"Name": "VariantName", "Value": "main"}]})
    with Load(leader, "ha", csv_row(features), clients=2) as through_leader, \
            Load(follower, "ha", csv_row(features), clients=2) as through_follower:
        time.sleep(3)
    assert through_leader.failures == [] and through_follower.failures == []
    served = answered + sum(through_leader.served.values()) + sum(through_follower.served.values())
    assert sum(through_follower.served.values()) > 20
    deadline = time.monotonic() + 10  # the follower ships each closed second, the leader merges it
    while (recorded := invocations_through(leader, "ha", "Invocations", since)) != served:
        assert time.monotonic() < deadline, (recorded, served)
        time.sleep(0.5)
    assert leader.call("GET", "/api/alarms/ha-4xx")["StateValue"] != "ALARM"
    bad = [follower.invoke("ha", "not,a,row").status_code for _ in range(5)]  # through the follower only
    assert all(400 <= status < 500 for status in bad), bad
    deadline = time.monotonic() + 30
    while leader.call("GET", "/api/alarms/ha-4xx")["StateValue"] != "ALARM":
        assert time.monotonic() < deadline, "the leader's alarm never saw the follower's errors"
        time.sleep(0.5)
    assert invocations_through(leader, "ha", "Invocation4XXErrors", since) == 5
    assert invocations_through(leader, "ha", "Invocations", since) == served + 5
    assert invocations_through(follower, "ha", "Invocations", since) == served + 5  # the follower reads them


def leader_lock_pids(database_url: str) -> list[int]:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute("SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                             "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s", (name,)).fetchall()
    return [int(row[0]) for row in rows]


def test_a_leader_whose_database_session_is_killed_exits_and_the_other_takes_over(
        shared_database: str, pair: tuple[HaServer, HaServer], sklearn_model: Path, features: np.ndarray) -> None:
    import psycopg

    first, second = pair
    deploy_blue(first.api, sklearn_model, 1, None, csv_row(features))
    (pid,) = leader_lock_pids(shared_database)  # the leader's lock session, and only it
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    killed_at = time.monotonic()
    assert first.process.wait(10) == 70  # it cannot know it is still the only leader: it exits
    exited_s = time.monotonic() - killed_at
    while not second.leads():
        assert time.monotonic() - killed_at < 10, "the other server did not take over"
        time.sleep(0.05)
    took_over_s = time.monotonic() - killed_at
    print(f"leader exited {exited_s:.2f} s after its session was killed; new leader at {took_over_s:.2f} s")
    assert exited_s < 5 and took_over_s < 5
    assert "lost its leadership" in first.log.read_text()
    deadline = time.monotonic() + 10  # the instances lived on; the new leader adopted them
    while second.api.invoke("ha", csv_row(features)).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert second.api.call("GET", "/api/endpoints/ha")["EndpointStatus"] == "InService"
    assert len(leader_lock_pids(shared_database)) == 1


@pytest.mark.parallel  # times nothing
def test_the_feedback_api_knows_answers_the_follower_gave_under_an_ab_test(
        pair: tuple[HaServer, HaServer], sklearn_model: Path, features: np.ndarray) -> None:
    """The follower serves from the stored table with the A/B test's recording on, and stores its
    assignments every second: feedback sent to the leader finds every answer the follower gave."""
    first, second = pair
    leader, follower = first.api, second.api
    leader.deploy("ab", sklearn_model, {"a": (0.5, 1), "b": (0.5, 1)})
    leader.call("POST", "/api/ab-tests", {"Name": "ha-ab", "EndpointName": "ab", "VariantA": "a", "VariantB": "b",
                                          "MinimumSamples": 1000}, expect=201)
    revision = httpx.get(f"{leader.base_url}/health").json()["routing_revision"]
    deadline = time.monotonic() + 10
    while httpx.get(f"{follower.base_url}/health").json()["routing_revision"] < revision:
        assert time.monotonic() < deadline, "the follower never caught up with the leader's table"
        time.sleep(0.1)
    outcomes = []
    for index in range(20):
        answer = follower.invoke("ab", csv_row(features, index))
        assert answer.status_code == 200, answer.text
        outcomes.append({"InferenceId": answer.headers["x-amzn-sagemaker-inference-id"], "Reward": 1.0})
    recorded, deadline = 0, time.monotonic() + 10
    while recorded < 20:
        assert time.monotonic() < deadline, f"the leader's feedback API knows only {recorded} of 20 answers"
        recorded += leader.call("POST", "/api/endpoints/ab/feedback", {"Outcomes": outcomes})["Recorded"]
        time.sleep(0.3)
    status = leader.call("GET", "/api/ab-tests/ha-ab")
    assert sum(v["N"] for v in status["Variants"]) == 20, status["Variants"]


def capture_metric(api: Api, metric: str) -> float:
    return metric_sum(api, "cap", "main", metric, "greenfleet/DataCapture")


@pytest.mark.parallel  # times nothing
def test_the_followers_capture_counts_at_the_leader_and_its_failure_shows_in_describe_endpoint(
        pair: tuple[HaServer, HaServer], sklearn_model: Path, features: np.ndarray, tmp_path: Path) -> None:
    """Invocations answered by the follower only, with data capture on: while its destination refuses writes
    (a path under a file) the leader's DescribeEndpoint names the follower's router; once it takes writes the
    reason goes, the follower's writer writes the records, and the leader's metrics count every record the
    follower captured or failed (greenfleet/DataCapture), as the follower reads them too."""
    first, second = pair
    leader, follower = first.api, second.api
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    leader.deploy_capturing("cap", sklearn_model, str(blocker / "sub"))
    revision = httpx.get(f"{leader.base_url}/health").json()["routing_revision"]
    deadline = time.monotonic() + 10
    while httpx.get(f"{follower.base_url}/health").json()["routing_revision"] < revision:
        assert time.monotonic() < deadline, "the follower never caught up with the leader's table"
        time.sleep(0.1)
    answered, described = 0, dict[str, Any]()
    deadline = time.monotonic() + 15
    while "FailureReason" not in described:
        assert time.monotonic() < deadline, described
        answer = follower.invoke("cap", csv_row(features, answered))
        assert answer.status_code == 200, answer.text
        answered += 1
        time.sleep(0.2)
        described = leader.call("GET", "/api/endpoints/cap")
    reason = described["FailureReason"]
    assert reason.startswith("Data capture is failing: capture on router server-") and str(blocker) in reason, reason
    assert described["EndpointStatus"] == "InService"
    blocker.unlink()  # the destination takes writes again
    deadline = time.monotonic() + 15
    while "FailureReason" in described:
        assert time.monotonic() < deadline, described
        assert follower.invoke("cap", csv_row(features, answered)).status_code == 200
        answered += 1
        time.sleep(0.2)
        described = leader.call("GET", "/api/endpoints/cap")
    for index in range(10):
        assert follower.invoke("cap", csv_row(features, index)).status_code == 200
    answered += 10
    deadline = time.monotonic() + 10  # the follower's writer flushes within a second
    while (written := len(records(blocker / "sub"))) + capture_metric(leader, "FailedRecords") < answered:
        assert time.monotonic() < deadline, (written, answered)
        time.sleep(0.3)
    failed = capture_metric(leader, "FailedRecords")
    assert failed >= 1 and written >= 10 and written + failed == answered, (written, failed, answered)
    deadline = time.monotonic() + 10  # the follower ships each closed second, the leader merges it
    while (captured := capture_metric(leader, "CapturedRecords")) < written:
        assert time.monotonic() < deadline, (captured, written)
        time.sleep(0.3)
    assert captured == written
    deadline = time.monotonic() + 5  # the follower reads what the leader committed
    while capture_metric(follower, "CapturedRecords") != written:
        assert time.monotonic() < deadline
        time.sleep(0.3)
