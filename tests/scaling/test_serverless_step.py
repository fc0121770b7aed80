"""The serverless controller, pure, tick by tick: warm on a request, cold after the idle period,
ProvisionedConcurrency kept warm, nothing while the endpoint cannot change, and a restart keeps a warm variant
for one idle period
(but never warms a cold one)."""

from __future__ import annotations

from greenfleet.scaling.serverless import ServerlessObservation, SetWarm, step

T0 = 1_700_000_000.0
IDLE = 60.0


def seen(desired: int, last: float | None, in_flight: int = 0, provisioned: int = 0,
         blocked: bool = False) -> list[ServerlessObservation]:
    return [ServerlessObservation("e", "v", desired, provisioned, last, in_flight, blocked)]


def test_a_request_warms_the_variant_and_idleness_cools_it() -> None:
    state, actions = step({}, seen(0, None), T0, IDLE)
    assert actions == []  # a new endpoint stays cold until its first request
    state, actions = step(state, seen(0, T0 + 1), T0 + 1, IDLE)
    assert actions == [SetWarm("e", "v", 1, "a request arrived")]
    state, actions = step(state, seen(1, T0 + 1), T0 + IDLE, IDLE)
    assert actions == []
    state, actions = step(state, seen(1, T0 + 1), T0 + IDLE + 1, IDLE)
    assert actions == [SetWarm("e", "v", 0, "no request for 60 s")]
    state, actions = step(state, seen(0, T0 + IDLE + 2), T0 + IDLE + 2, IDLE)  # the router saw a request
    assert actions == [SetWarm("e", "v", 1, "a request arrived")]
    state, actions = step(state, seen(1, T0 + IDLE + 2, in_flight=1), T0 + 3 * IDLE, IDLE)
    assert actions == []  # still busy: never stopped under a request
    state, actions = step(state, seen(1, T0 + 3 * IDLE), T0 + 4 * IDLE + 1, IDLE)
    assert [a.count for a in actions] == [0]


def test_provisioned_concurrency_stays_warm_and_a_blocked_endpoint_is_left_alone() -> None:
    _, actions = step({}, seen(0, None, provisioned=2), T0, IDLE)
    assert actions == [SetWarm("e", "v", 2, "ProvisionedConcurrency 2")]
    _, actions = step({("e", "v"): T0}, seen(2, T0, provisioned=2), T0 + 10 * IDLE, IDLE)
    assert actions == []
    _, actions = step({("e", "v"): T0}, seen(0, T0 + 5, blocked=True), T0 + 6, IDLE)
    assert actions == []


def test_after_a_restart_a_warm_variant_is_kept_one_idle_period_and_a_cold_one_stays_cold() -> None:
    state, actions = step({}, seen(1, None), T0, IDLE)  # the router's memory is gone
    assert actions == []
    _, actions = step(state, seen(1, None), T0 + IDLE - 1, IDLE)
    assert actions == []
    _, actions = step(state, seen(1, None), T0 + IDLE + 1, IDLE)
    assert actions == [SetWarm("e", "v", 0, "no request for 60 s")]
    _, actions = step(state, seen(0, None), T0 + 1, IDLE)
    assert actions == []
