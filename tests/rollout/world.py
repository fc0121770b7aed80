"""A fake world for tick-by-tick rollout tests: fleets whose instances get ready after ``launch_s``,
a router holding traffic shares, alarms and in-flight counts set by the test, and an event log.

It checks the driver's invariant after every action: no traffic share on a fleet without instances.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from greenfleet.rollout import (
    Action,
    AlarmObservation,
    AlarmState,
    Command,
    Emit,
    Finish,
    FleetObservation,
    FleetSpec,
    Observations,
    Phase,
    RolloutState,
    SetFleet,
    SetTraffic,
    VariantObservation,
    VariantSpec,
    step,
)

NEVER = float("inf")


@dataclass
class Instance:
    ready_at: float
    failure: str | None = None


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

    def observe(self, now: float) -> Observations:
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
        return Observations(fleets=fleets, alarms=dict(self.alarms), commands=tuple(self.commands), last_event_seq=last)

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
        state, actions = step(state, world.observe(now), now)
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
