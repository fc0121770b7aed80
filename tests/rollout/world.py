"""A fake world for tick-by-tick rollout tests: fleets whose instances get ready after ``launch_s``,
a router holding traffic shares, alarms and in-flight counts set by the test, and an event log.

It checks the driver's invariant after every action: no traffic share on a fleet without instances.

For GreenfleetRollout: checks (RunCheck) answer ``check_delay_s`` after they start, with the status set
per check name in ``check_verdicts`` (default PASSED; names in ``silent_checks`` never answer), and a
``Traffic`` model generates latency and error samples for each fleet according to the traffic split in
effect, which the world hands to the real judge when ``judge_request`` asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from greenfleet.judge import Counts, JudgeReport, MetricSamples, Moments
from greenfleet.rollout import (
    Action,
    AlarmObservation,
    AlarmState,
    CheckResult,
    CheckStatus,
    Command,
    Emit,
    Finish,
    FleetObservation,
    FleetSpec,
    Observations,
    Phase,
    RolloutState,
    RunCheck,
    SetFleet,
    SetTraffic,
    VariantObservation,
    VariantSpec,
    judge_request,
    step,
)

NEVER = float("inf")


@dataclass
class Instance:
    ready_at: float
    failure: str | None = None


@dataclass
class Traffic:
    """Requests per second at 100 % and how each fleet answers: lognormal latency (median in ms, sigma)
    times a fleet's factor, errors at a fleet's rate. Deterministic for a given seed and tick sequence."""

    rps: float = 20.0
    median_ms: float = 20.0
    sigma: float = 0.4
    latency_factor: dict[str, float] = field(default_factory=dict)
    error_rate: dict[str, float] = field(default_factory=dict)
    seed: int = 7
    rng: np.random.Generator = field(init=False)
    batches: list[tuple[float, str, np.ndarray, int]] = field(default_factory=list)
    """(end of interval, fleet id, latencies, errors)."""
    until: float | None = None

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def generate(self, shares: dict[str, int], now: float) -> None:
        """Samples for the requests served since the last call (none for a repeated ``now``)."""
        start, self.until = self.until, now
        if start is None or now <= start:
            return
        for fleet_id, share in sorted(shares.items()):
            n = int(self.rng.poisson(self.rps * (now - start) * share / 100))
            if n == 0:
                continue
            latencies = self.rng.lognormal(np.log(self.median_ms), self.sigma, n) * self.latency_factor.get(
                fleet_id, 1.0
            )
            errors = int(self.rng.binomial(n, self.error_rate.get(fleet_id, 0.0)))
            self.batches.append((now, fleet_id, latencies, errors))

    def samples(self, test: str, fleet_id: str, since: float) -> np.ndarray | Counts | Moments:
        chosen = [b for b in self.batches if b[0] > since and b[1] == fleet_id]
        latencies = np.concatenate([b[2] for b in chosen]) if chosen else np.empty(0)
        if test == "SEQUENTIAL_PROPORTION":
            return Counts(int(latencies.size), sum(b[3] for b in chosen))
        if test == "SEQUENTIAL_MEAN":
            return Moments.of(latencies)
        return latencies


@dataclass
class FakeWorld:
    launch_s: float = 10.0
    failing: dict[str, str] = field(default_factory=dict)
    """fleet id -> reason: instances launched from now on fail after launch_s."""
    never_ready: set[str] = field(default_factory=set)
    """fleet ids whose instances launched from now on never get ready (and report nothing)."""
    in_flight: dict[str, int] = field(default_factory=dict)
    alarms: dict[str, AlarmObservation] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    instances: dict[str, dict[str, list[Instance]]] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    events: dict[int, Emit] = field(default_factory=dict)
    finished: list[Finish] = field(default_factory=list)
    report_events: bool = False
    """Fill Observations.last_event_seq from the event log."""
    check_delay_s: float = 5.0
    check_verdicts: dict[str, CheckStatus] = field(default_factory=dict)
    silent_checks: set[str] = field(default_factory=set)
    check_started: dict[str, tuple[RunCheck, float]] = field(default_factory=dict)
    notifications: list[RunCheck] = field(default_factory=list)
    """RunChecks with report=False (POST_*), first delivery of each id."""
    traffic_model: Traffic | None = None
    reports: list[JudgeReport] = field(default_factory=list)

    def run_fleet(self, spec: FleetSpec) -> None:
        """A fleet already serving everything (blue before the deployment)."""
        self.instances[spec.fleet_id] = {
            v.name: [Instance(ready_at=float("-inf")) for _ in range(v.instance_count)] for v in spec.variants
        }
        self.traffic = {spec.fleet_id: 100}

    def alarm(self, name: str, state: AlarmState, now: float) -> None:
        previous = self.alarms.get(name)
        entered = previous.entered_alarm_at if previous else None
        if state is AlarmState.ALARM and (previous is None or previous.state is not AlarmState.ALARM):
            entered = now
        self.alarms[name] = AlarmObservation(state, entered)

    def observe(self, now: float, state: RolloutState | None = None) -> Observations:
        fleets = {}
        for fleet_id, variants in self.instances.items():
            fleets[fleet_id] = FleetObservation(
                variants={
                    name: VariantObservation(
                        desired=len(insts),
                        ready=sum(1 for i in insts if i.ready_at <= now and i.failure is None),
                        failed=sum(1 for i in insts if i.ready_at <= now and i.failure is not None),
                        failure_reason=next((i.failure for i in insts if i.ready_at <= now and i.failure), None),
                    )
                    for name, insts in variants.items()
                },
                in_flight=self.in_flight.get(fleet_id, 0),
            )
        last = max(self.events) if self.report_events and self.events else None
        if self.report_events and not self.events:
            last = -1
        return Observations(
            fleets=fleets,
            alarms=dict(self.alarms),
            commands=tuple(self.commands),
            last_event_seq=last,
            check_results=self._check_results(now),
            judge=self._judge(state, now),
        )

    def _check_results(self, now: float) -> dict[str, CheckResult]:
        out = {}
        for ident, (check, started) in self.check_started.items():
            if check.name in self.silent_checks:
                continue
            status = (
                self.check_verdicts.get(check.name, CheckStatus.PASSED) if now >= started + self.check_delay_s else None
            )
            out[ident] = CheckResult(status or CheckStatus.PENDING, "HTTP 500" if status is CheckStatus.FAILED else "")
        return out

    def _judge(self, state: RolloutState | None, now: float) -> JudgeReport | None:
        if self.traffic_model is None:
            return None
        self.traffic_model.generate(self.traffic, now)
        request = judge_request(state, now) if state is not None else None
        if request is None:
            return None
        model, start = self.traffic_model, request.window_start
        samples = {
            m.Name: MetricSamples(
                control=model.samples(m.Test, request.control.fleet_id, start),
                experiment=model.samples(m.Test, request.experiment.fleet_id, start),
            )
            for m in request.config.Metrics
        }
        report = request.evaluate(samples, now)
        self.reports.append(report)
        return report

    def apply(self, actions: Iterable[Action], now: float) -> None:
        for action in actions:
            if isinstance(action, SetFleet):
                self._set_fleet(action, now)
            elif isinstance(action, SetTraffic):
                assert sum(action.shares.values()) == 100, action
                self.traffic = dict(action.shares)
            elif isinstance(action, Emit):
                self.events.setdefault(action.seq, action)
            elif isinstance(action, Finish):
                self.finished.append(action)
            elif isinstance(action, RunCheck):
                self._run_check(action, now)
            self._check_invariant(action)

    def _set_fleet(self, action: SetFleet, now: float) -> None:
        fleet = self.instances.setdefault(action.fleet_id, {})
        for variant, n in action.instance_counts.items():
            insts = fleet.setdefault(variant, [])
            while len(insts) > n:
                # Stop instances that are not serving first, then the newest.
                idle = [i for i in insts if i.ready_at > now or i.failure]
                insts.remove(idle[-1] if idle else insts[-1])
            while len(insts) < n:
                if action.fleet_id in self.never_ready:
                    insts.append(Instance(ready_at=NEVER))
                else:
                    insts.append(Instance(ready_at=now + self.launch_s, failure=self.failing.get(action.fleet_id)))

    def _run_check(self, action: RunCheck, now: float) -> None:
        if action.check_id in self.check_started or action.check_id in {n.check_id for n in self.notifications}:
            return  # the driver starts each check id once
        if action.report:
            self.check_started[action.check_id] = (action, now)
        else:
            self.notifications.append(action)

    def _check_invariant(self, action: Action) -> None:
        for fleet_id, share in self.traffic.items():
            running = sum(len(insts) for insts in self.instances.get(fleet_id, {}).values())
            assert share == 0 or running > 0, f"{share}% of traffic on stopped fleet {fleet_id} after {action}"

    def running(self, fleet_id: str) -> int:
        return sum(len(insts) for insts in self.instances.get(fleet_id, {}).values())


@dataclass(frozen=True)
class Tick:
    now: float
    phase: Phase
    traffic: dict[str, int]
    actions: list[Action]


Script = Callable[[FakeWorld, RolloutState, float], None]


def drive(
    state: RolloutState,
    world: FakeWorld,
    *,
    every: float = 5.0,
    start: float = 0.0,
    limit: int = 400,
    script: Script | None = None,
    roundtrip: bool = False,
    crash_at: frozenset[int] = frozenset(),
) -> tuple[RolloutState, list[Tick]]:
    """Tick until the deployment is over (plus one more tick). ``script`` may change the world before
    each tick; ``roundtrip`` reloads the state from JSON after every tick; a tick number in
    ``crash_at`` loses its actions (the process died after saving the state, before applying)."""
    ticks: list[Tick] = []
    extra = 1
    for n in range(1, limit + 1):
        now = start + n * every
        if script is not None:
            script(world, state, now)
        state, actions = step(state, world.observe(now, state), now)
        if n not in crash_at:
            world.apply(actions, now)
        ticks.append(Tick(now, state.phase, dict(state.traffic), actions))
        if roundtrip:
            state = RolloutState.from_json(state.to_json())
        if state.is_terminal:
            extra -= 1
            if extra < 0:
                return state, ticks
    raise AssertionError(f"deployment still {state.phase} after {limit} ticks")


def fleet(name: str, count: int = 3, *, variants: tuple[str, ...] = ("AllTraffic",)) -> FleetSpec:
    return FleetSpec(
        fleet_id=name,
        config_name=name,
        variants=tuple(VariantSpec(name=v, instance_count=count, weight=1.0) for v in variants),
    )


def phases(ticks: list[Tick]) -> list[Phase]:
    """Distinct phases in order of appearance (consecutive repeats folded)."""
    out: list[Phase] = []
    for t in ticks:
        if not out or out[-1] is not t.phase:
            out.append(t.phase)
    return out
