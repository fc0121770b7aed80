"""Pure arithmetic: a DeploymentConfig and two fleets compiled into stages (state.Stage).

Rounding choices (SageMaker documents none of them):

- Traffic shares are integer percentages rounded half up, and a fleet that holds any capacity gets at
  least 1 % and leaves the other at least 1 % (e.g. 1 of 3 instances -> 33 %, 2 of 3 -> 67 %).
- CanarySize / LinearStepSize as CAPACITY_PERCENT are traffic percentages as given (a canary of 10 %
  takes 10 % of requests); as INSTANCE_COUNT they are that many of the green fleet's instances, i.e.
  instances / green instances. LINEAR steps add the step until 100 (33 % -> 33, 66, 99, 100).
- Rolling batch sizes as CAPACITY_PERCENT are rounded down (the size is a maximum), at least one
  instance: 25 % of 6 -> 1. Without RollbackMaximumBatchSize the rollback restores everything at once.
- A rolling batch adds instances to green, then moves traffic in proportion to capacity as if the
  matching blue batch were gone (green / (green + blue left)), bakes, and removes that blue batch when
  the next batch starts. When the counts differ, blue shrinks in proportion: after green reaches g of
  G instances blue keeps ceil(B * (G - g) / G).
- GreenfleetRollout.Steps are traffic percentages as given, each with its bake (strategy STEPS).
- GreenfleetRollout gates (``gate_plan``): PRE_TRAFFIC checks before the first stage's traffic,
  PRE_PROMOTION checks before the first stage that moves all traffic to green, STEP checks after every
  stage's bake, the approval of Steps[i] on stage i, and the judge on every stage where both fleets take
  traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

from greenfleet.rollout.extension import RolloutExtension, RolloutStep
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.policy import CapacitySize, DeploymentConfig, RollingPolicy, TrafficRoutingConfig
from greenfleet.rollout.state import Stage, Strategy

__all__ = [
    "TrafficStep",
    "batch_instances",
    "blue_green_plan",
    "compile_plan",
    "gate_plan",
    "green_share",
    "percent_of",
    "rollback_plan",
    "rollback_targets",
    "rolling_plan",
    "rolling_targets",
    "step_list",
    "traffic_steps",
]


@dataclass(frozen=True)
class TrafficStep:
    """One blue/green traffic step: green's share, then a bake. Issue 5's explicit step lists compile
    to the same thing."""

    percent: int
    bake_s: float
    label: str


def percent_of(part: int, whole: int) -> int:
    """100 * part / whole as an integer, rounded half up."""
    return (200 * part + whole) // (2 * whole)


def green_share(green: int, blue: int) -> int:
    """Green's share of traffic when the fleets hold these capacities."""
    if green <= 0:
        return 0
    if blue <= 0:
        return 100
    return min(99, max(1, percent_of(green, green + blue)))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def traffic_steps(routing: TrafficRoutingConfig | None, green_instances: int) -> list[TrafficStep]:
    """The blue/green schedule. No routing config: SageMaker's default, all at once without a bake."""
    if routing is None:
        return [TrafficStep(100, 0.0, "all traffic")]
    wait = float(routing.WaitIntervalInSeconds)
    if routing.Type == "CANARY" and routing.CanarySize is not None:
        size = routing.CanarySize
        if size.Type == "INSTANCE_COUNT":
            canary = min(100, max(1, percent_of(size.Value, max(green_instances, 1))))
        else:
            canary = size.Value
        return [
            TrafficStep(canary, wait, "canary"),
            TrafficStep(100, 0.0, "remaining traffic"),
        ]
    if routing.Type == "LINEAR" and routing.LinearStepSize is not None:
        percents = _linear_percents(routing.LinearStepSize, max(green_instances, 1))
        n = len(percents)
        return [TrafficStep(p, wait, f"linear step {i} of {n}") for i, p in enumerate(percents, 1)]
    return [TrafficStep(100, wait, "all at once")]


def step_list(steps: list[RolloutStep]) -> list[TrafficStep]:
    """GreenfleetRollout.Steps as traffic steps."""
    n = len(steps)
    return [TrafficStep(s.TrafficPercent, float(s.BakeInSeconds), f"step {i} of {n}") for i, s in enumerate(steps, 1)]


def _linear_percents(size: CapacitySize, green_instances: int) -> list[int]:
    if size.Type == "INSTANCE_COUNT":
        k, g = size.Value, green_instances
        raw = [percent_of(min(i * k, g), g) for i in range(1, _ceil_div(g, k) + 1)]
    else:
        raw = [min(100, i * size.Value) for i in range(1, _ceil_div(100, size.Value) + 1)]
    out: list[int] = []
    for p in raw:
        p = max(1, p)
        if not out or p > out[-1]:
            out.append(p)
    return out


def batch_instances(size: CapacitySize | None, total: int) -> int:
    """A batch in instances. None: everything at once."""
    if size is None:
        return max(total, 1)
    if size.Type == "INSTANCE_COUNT":
        return max(1, size.Value)
    return max(1, size.Value * total // 100)


def rolling_targets(new_total: int, old_total: int, batch: int) -> list[tuple[int, int]]:
    """(green instances, blue instances left) after each rolling batch."""
    if new_total <= 0:
        return [(0, 0)]
    out = []
    for i in range(1, _ceil_div(new_total, batch) + 1):
        g = min(new_total, i * batch)
        out.append((g, _ceil_div(old_total * (new_total - g), new_total)))
    return out


def rollback_targets(old_now: int, old_total: int, new_now: int, batch: int) -> list[tuple[int, int]]:
    """(blue instances, green instances left) after each rollback batch."""
    missing = old_total - old_now
    if missing <= 0:
        return [(old_total, 0)]
    out = []
    for j in range(1, _ceil_div(missing, batch) + 1):
        b = min(old_total, old_now + j * batch)
        out.append((b, _ceil_div(new_now * (old_total - b), missing)))
    return out


def blue_green_plan(
    routing: TrafficRoutingConfig | None, blue: FleetSpec, green: FleetSpec, steps: list[TrafficStep] | None = None
) -> tuple[Stage, ...]:
    """``steps`` (GreenfleetRollout.Steps) replace the routing's schedule."""
    both = {blue.fleet_id: blue.counts(), green.fleet_id: green.counts()}
    stages = []
    for i, step in enumerate(steps if steps is not None else traffic_steps(routing, green.total)):
        stages.append(
            Stage(
                label=step.label,
                fleets=both,
                traffic={blue.fleet_id: 100 - step.percent, green.fleet_id: step.percent},
                bake_s=step.bake_s,
                await_ready={green.fleet_id: green.counts()} if i == 0 else {},
            )
        )
    return tuple(stages)


def _pad(seq: list[tuple[int, int]], i: int) -> tuple[int, int]:
    return seq[min(i, len(seq) - 1)]


def rolling_plan(policy: RollingPolicy, blue: FleetSpec, green: FleetSpec) -> tuple[Stage, ...]:
    old = blue.counts()
    per_variant = {
        v.name: rolling_targets(
            v.instance_count, old.get(v.name, 0), batch_instances(policy.MaximumBatchSize, v.instance_count)
        )
        for v in green.variants
    }
    batches = max(len(t) for t in per_variant.values())
    stages, blue_now = [], old
    for i in range(batches):
        new_i = {name: _pad(t, i)[0] for name, t in per_variant.items()}
        old_i = {**old, **{name: _pad(t, i)[1] for name, t in per_variant.items() if name in old}}
        share = green_share(sum(new_i.values()), sum(old_i.values()))
        stages.append(
            Stage(
                label=f"batch {i + 1} of {batches}",
                fleets={blue.fleet_id: blue_now, green.fleet_id: new_i},
                traffic={blue.fleet_id: 100 - share, green.fleet_id: share},
                bake_s=float(policy.WaitIntervalInSeconds),
                await_ready={green.fleet_id: new_i},
            )
        )
        blue_now = old_i
    return tuple(stages)


def rollback_plan(
    fleets: dict[str, dict[str, int]], blue: FleetSpec, green: FleetSpec, batch: CapacitySize | None
) -> tuple[Stage, ...]:
    """From the instance targets in effect back to blue at full capacity; green is stopped after the
    last stage (by the terminal phase). ``batch`` None: all at once (blue/green, rolling by default)."""
    old_now = {**blue.zero(), **fleets.get(blue.fleet_id, {})}
    new_now = {**green.zero(), **fleets.get(green.fleet_id, {})}
    per_variant = {
        v.name: rollback_targets(
            old_now[v.name], v.instance_count, new_now.get(v.name, 0), batch_instances(batch, v.instance_count)
        )
        for v in blue.variants
    }
    count = max(len(t) for t in per_variant.values())
    stages, green_prev, blue_prev = [], new_now, old_now
    for j in range(count):
        old_j = {name: _pad(t, j)[0] for name, t in per_variant.items()}
        new_j = {**new_now, **{name: _pad(t, j)[1] for name, t in per_variant.items() if name in new_now}}
        if batch is None:
            new_j = green.zero()
        share = green_share(sum(new_j.values()), sum(old_j.values()))
        grown = {name: n for name, n in old_j.items() if n > blue_prev[name]}
        label = "all traffic back to the old fleet" if count == 1 else f"rollback batch {j + 1} of {count}"
        stages.append(
            Stage(
                label=label,
                fleets={blue.fleet_id: old_j, green.fleet_id: green_prev},
                traffic={blue.fleet_id: 100 - share, green.fleet_id: share},
                await_ready={blue.fleet_id: grown} if grown else {},
            )
        )
        green_prev, blue_prev = new_j, old_j
    return tuple(stages)


def gate_plan(plan: tuple[Stage, ...], ext: RolloutExtension | None, green_id: str) -> tuple[Stage, ...]:
    """The plan with GreenfleetRollout's checks, approvals and judged stages."""
    if ext is None:
        return plan
    promotion = next((i for i, s in enumerate(plan) if s.traffic.get(green_id, 0) >= 100), None)
    approvals = [s.RequireApproval for s in ext.Steps] if ext.Steps is not None else []
    out = []
    for i, stage in enumerate(plan):
        pre = (ext.checks_at("PRE_TRAFFIC") if i == 0 else ()) + (
            ext.checks_at("PRE_PROMOTION") if i == promotion else ()
        )
        share = stage.traffic.get(green_id, 0)
        out.append(
            stage.model_copy(
                update={
                    "pre_checks": pre,
                    "post_checks": ext.checks_at("STEP"),
                    "approval": approvals[i] if i < len(approvals) else False,
                    "judged": ext.Judge is not None and 0 < share < 100,
                }
            )
        )
    return tuple(out)


def compile_plan(
    config: DeploymentConfig | None, blue: FleetSpec, green: FleetSpec
) -> tuple[Strategy, tuple[Stage, ...], float]:
    """(strategy, plan, TerminationWaitInSeconds)."""
    ext = config.GreenfleetRollout if config is not None else None
    if config is not None and config.RollingUpdatePolicy is not None:
        return (
            Strategy.ROLLING,
            gate_plan(rolling_plan(config.RollingUpdatePolicy, blue, green), ext, green.fleet_id),
            0.0,
        )
    bg = config.BlueGreenUpdatePolicy if config is not None else None
    routing = bg.TrafficRoutingConfiguration if bg is not None else None
    strategy = Strategy(routing.Type) if routing is not None else Strategy.ALL_AT_ONCE
    steps = step_list(ext.Steps) if ext is not None and ext.Steps is not None else None
    if steps is not None:
        strategy = Strategy.STEPS
    termination = float(bg.TerminationWaitInSeconds or 0) if bg is not None else 0.0
    return strategy, gate_plan(blue_green_plan(routing, blue, green, steps), ext, green.fleet_id), termination
