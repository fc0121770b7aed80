"""The judge's fresh baseline (Kayenta's canary/baseline pattern): a copy of blue's config started beside
green with green's instance counts, given green's traffic share in every judged stage, judged against
green instead of blue, and stopped with the deployment (after the last judged stage, on success or on
rollback).

Why (measured, bench/judge_aa.py, greenfleet/judge/__init__.py): an identical green judged against the
long-running production fleet is not identical in what the judge sees. It was started seconds ago and
takes a smaller share of the load on its own processes, while blue is warm and busy; on shared cores its
ModelLatency differs from blue's by more than the judge's tolerance. A baseline started at the same time
and given the same share is in the same situation as green, so only the model differs.

Its instances serve blue's exact container (the variants are copied from the current fleet) and its
invocations count in the endpoint's per-variant metrics like any other; its per-config series are
recorded under ``baseline_series(blue config)``, apart from blue's.

``Judge.Baseline``: FRESH asks for one (refused where it cannot work), PRODUCTION compares with blue,
None takes FRESH where the plan allows it and gives green less than 50 % in some judged step. Where every
judged step is 50 % the split is already even and a baseline only adds a second cold process: measured,
the live A/A test (script models sleeping 4 ms, 50 %, 2 s bakes, 20 runs) passed 20 of 20 against blue at
load 10 but failed within a series in 2 of 3 attempts against a baseline (run 15: 1.42x, 69 / 63 samples).
"""

from __future__ import annotations

from greenfleet.errors import ValidationError
from greenfleet.rollout.fleet import FleetSpec, VariantSpec
from greenfleet.rollout.plans import compile_plan
from greenfleet.rollout.policy import DeploymentConfig
from greenfleet.rollout.state import Stage

__all__ = ["SERIES_SUFFIX", "baseline_series", "baseline_spec", "baseline_wanted", "stop_baseline", "with_baseline"]

SERIES_SUFFIX = "@baseline"
_PATH = "DeploymentConfig.GreenfleetRollout.Judge.Baseline"


def baseline_series(config_name: str) -> str:
    """The EndpointConfigName of the baseline's per-config metric series."""
    return config_name + SERIES_SUFFIX


def baseline_wanted(config: DeploymentConfig | None, blue: FleetSpec, green: FleetSpec) -> bool:
    """Whether this deployment runs a fresh baseline; ValidationError when Baseline FRESH cannot work."""
    ext = config.GreenfleetRollout if config is not None else None
    judge = ext.Judge if ext is not None else None
    if config is None or judge is None or judge.Baseline == "PRODUCTION":
        return False
    problems = _problems(config, blue, green)
    if judge.Baseline == "FRESH":
        if problems:
            raise ValidationError(f"{_PATH}: FRESH cannot work here: " + "; ".join(problems)
                                  + ". Use Baseline PRODUCTION to judge green against the serving fleet.")
        return True
    return not problems and any(p < 50 for p in _judged_shares(config, blue, green))


def _judged_shares(config: DeploymentConfig, blue: FleetSpec, green: FleetSpec) -> list[int]:
    _strategy, plan, _wait = compile_plan(config, blue, green)
    return [s.traffic.get(green.fleet_id, 0) for s in plan if s.judged]


def _problems(config: DeploymentConfig, blue: FleetSpec, green: FleetSpec) -> list[str]:
    if config.RollingUpdatePolicy is not None:
        return ["a rolling deployment replaces blue batch by batch, so no baseline can match green"]
    over = sorted({p for p in _judged_shares(config, blue, green) if p > 50})
    if over:
        return [f"the baseline takes as much traffic as green, so a judged step can give green at most 50 %, "
                f"got {', '.join(f'{p} %' for p in over)}"]
    return []


def baseline_spec(fleet_id: str, blue: FleetSpec, green: FleetSpec) -> FleetSpec:
    """Blue's variants (its config, its weights) with green's instance counts."""
    counts = green.counts()
    return FleetSpec(
        fleet_id=fleet_id,
        config_name=blue.config_name,
        variants=tuple(VariantSpec(name=v.name, instance_count=counts.get(v.name, v.instance_count), weight=v.weight)
                       for v in blue.variants),
        series_name=baseline_series(blue.config_name),
    )


def with_baseline(plan: tuple[Stage, ...], baseline: FleetSpec, blue_id: str, green_id: str) -> tuple[Stage, ...]:
    """The plan with the baseline: full capacity and green's share (taken from blue) in judged stages, awaited
    with green's capacity by the first of them; stopped and without traffic in every other stage."""
    out, started = [], False
    for stage in plan:
        if stage.judged:
            share = stage.traffic.get(green_id, 0)
            await_ready = stage.await_ready if started else {**stage.await_ready, baseline.fleet_id: baseline.counts()}
            started = True
            out.append(stage.model_copy(update={
                "fleets": {**stage.fleets, baseline.fleet_id: baseline.counts()},
                "traffic": {**stage.traffic, blue_id: stage.traffic.get(blue_id, 0) - share, baseline.fleet_id: share},
                "await_ready": await_ready,
            }))
        else:
            out.append(stage.model_copy(update={
                "fleets": {**stage.fleets, baseline.fleet_id: baseline.zero()},
                "traffic": {**stage.traffic, baseline.fleet_id: 0},
            }))
    return tuple(out)


def stop_baseline(baseline: FleetSpec | None, fleets: dict[str, dict[str, int]],
                  traffic: dict[str, int]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Targets and shares with the baseline (if any) stopped and without traffic."""
    if baseline is None:
        return fleets, traffic
    return {**fleets, baseline.fleet_id: baseline.zero()}, {**traffic, baseline.fleet_id: 0}
