"""DeploymentConfig: SageMaker's JSON shape, validated the way SageMaker documents it.

Class names follow botocore's shape names where they differ from the member names (a pydantic field
may not share its type's name); field names are exactly SageMaker's JSON members.

Two levels of checks:

- ``parse_deployment_config(raw)`` needs nothing but the request: types, ranges, required members,
  CanarySize only with CANARY, LinearStepSize only with LINEAR, one update policy at most, percentages
  (canary <= 50 %, linear step 10-50 %, rolling batch 5-50 %, rollback batch <= 100 %) and the timeout
  longer than TerminationWaitInSeconds + WaitIntervalInSeconds.
- greenfleet's extension, ``GreenfleetRollout`` (extension.py): its own checks, plus how it combines with
  SageMaker's members (Steps replace CANARY / LINEAR and not a rolling update; the timeout must exceed the
  bakes; a Judge needs a step where both fleets take traffic).
- ``check_fleets(config, old, new)`` needs the fleets: variant names unchanged, rolling only on a
  single-variant endpoint, and INSTANCE_COUNT sizes within the same percentages of the variant's total
  instance count (the docs state the bounds relative to "the variant's total instance count").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from greenfleet.errors import ValidationError
from greenfleet.rollout.extension import RolloutExtension, extension_problems
from greenfleet.rollout.fleet import FleetSpec

__all__ = [
    "SAGEMAKER_MIN_TIMEOUT_S",
    "Alarm",
    "AutoRollbackConfig",
    "BlueGreenPolicy",
    "CapacitySize",
    "DeploymentConfig",
    "RollingPolicy",
    "TrafficRoutingConfig",
    "check_fleets",
    "parse_deployment_config",
]

SAGEMAKER_MIN_TIMEOUT_S = 600
"""SageMaker's minimum MaximumExecutionTimeoutInSeconds; tests may lower it to 1 (strict_minimums)."""

CapacityType = Literal["INSTANCE_COUNT", "CAPACITY_PERCENT"]
RoutingType = Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]
WaitSeconds = Annotated[int, Field(ge=0, le=3600)]
TimeoutSeconds = Annotated[int, Field(ge=1, le=28800)]  # 600 applied in parse_deployment_config


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CapacitySize(_Shape):
    Type: CapacityType
    Value: Annotated[int, Field(ge=1)]


class TrafficRoutingConfig(_Shape):
    Type: RoutingType
    WaitIntervalInSeconds: WaitSeconds
    CanarySize: CapacitySize | None = None
    LinearStepSize: CapacitySize | None = None


class BlueGreenPolicy(_Shape):
    """SageMaker's BlueGreenUpdatePolicy."""

    TrafficRoutingConfiguration: TrafficRoutingConfig
    TerminationWaitInSeconds: WaitSeconds | None = None
    MaximumExecutionTimeoutInSeconds: TimeoutSeconds | None = None


class RollingPolicy(_Shape):
    """SageMaker's RollingUpdatePolicy."""

    MaximumBatchSize: CapacitySize
    WaitIntervalInSeconds: WaitSeconds
    MaximumExecutionTimeoutInSeconds: TimeoutSeconds | None = None
    RollbackMaximumBatchSize: CapacitySize | None = None


class Alarm(_Shape):
    AlarmName: Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]


class AutoRollbackConfig(_Shape):
    Alarms: Annotated[list[Alarm], Field(min_length=1, max_length=10)]


class DeploymentConfig(_Shape):
    BlueGreenUpdatePolicy: BlueGreenPolicy | None = None
    RollingUpdatePolicy: RollingPolicy | None = None
    AutoRollbackConfiguration: AutoRollbackConfig | None = None
    GreenfleetRollout: RolloutExtension | None = None
    """greenfleet's extension (extension.py); not part of SageMaker's API."""

    @property
    def alarm_names(self) -> tuple[str, ...]:
        arc = self.AutoRollbackConfiguration
        return tuple(a.AlarmName for a in arc.Alarms) if arc else ()

    def to_json(self) -> dict[str, Any]:
        """The JSON document as SageMaker returns it (LastDeploymentConfig): unset members omitted."""
        return self.model_dump(exclude_none=True, exclude_unset=True)


_BG = "DeploymentConfig.BlueGreenUpdatePolicy"
_TR = f"{_BG}.TrafficRoutingConfiguration"
_RU = "DeploymentConfig.RollingUpdatePolicy"
_GR = "DeploymentConfig.GreenfleetRollout"


def parse_deployment_config(raw: Any, *, strict_minimums: bool = True) -> DeploymentConfig:
    """Validate a DeploymentConfig JSON object; raise ValidationError naming every bad member."""
    if not isinstance(raw, dict):
        raise ValidationError("DeploymentConfig: must be a JSON object")
    try:
        config = DeploymentConfig.model_validate(raw)
    except PydanticValidationError as exc:
        raise ValidationError("; ".join(_describe(err) for err in exc.errors())) from None
    problems = _cross_checks(config, strict_minimums)
    if problems:
        raise ValidationError("; ".join(problems))
    return config


def _describe(err: Any) -> str:
    path = "DeploymentConfig"
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    kind = err["type"]
    if kind == "missing":
        return f"{path}: required member is missing"
    if kind == "extra_forbidden":
        return f"{path}: unknown member"
    return f"{path}: {err['msg']} (got {err['input']!r})"


def _cross_checks(config: DeploymentConfig, strict_minimums: bool) -> list[str]:
    problems: list[str] = []
    bg, ru = config.BlueGreenUpdatePolicy, config.RollingUpdatePolicy
    if bg is not None and ru is not None:
        problems.append("DeploymentConfig: specify either BlueGreenUpdatePolicy or RollingUpdatePolicy, not both")
    minimum = SAGEMAKER_MIN_TIMEOUT_S if strict_minimums else 1
    if bg is not None:
        problems += _routing_checks(bg.TrafficRoutingConfiguration)
        problems += _timeout_checks(_BG, bg.MaximumExecutionTimeoutInSeconds, minimum)
        timeout = bg.MaximumExecutionTimeoutInSeconds
        waits = (bg.TerminationWaitInSeconds or 0) + bg.TrafficRoutingConfiguration.WaitIntervalInSeconds
        if timeout is not None and timeout <= waits:
            problems.append(
                f"{_BG}.MaximumExecutionTimeoutInSeconds: must be larger than TerminationWaitInSeconds + "
                f"WaitIntervalInSeconds ({waits}), got {timeout}"
            )
    if ru is not None:
        problems += _timeout_checks(_RU, ru.MaximumExecutionTimeoutInSeconds, minimum)
        problems += _percent_check(f"{_RU}.MaximumBatchSize", ru.MaximumBatchSize, 5, 50)
        if ru.RollbackMaximumBatchSize is not None:
            problems += _percent_check(f"{_RU}.RollbackMaximumBatchSize", ru.RollbackMaximumBatchSize, 1, 100)
    if config.GreenfleetRollout is not None:
        problems += extension_problems(config.GreenfleetRollout, _GR)
        problems += _extension_checks(config, config.GreenfleetRollout)
    return problems


def _extension_checks(config: DeploymentConfig, ext: RolloutExtension) -> list[str]:
    """How GreenfleetRollout combines with SageMaker's members."""
    problems: list[str] = []
    bg, ru = config.BlueGreenUpdatePolicy, config.RollingUpdatePolicy
    routing = bg.TrafficRoutingConfiguration if bg is not None else None
    if ext.Steps is not None:
        if ru is not None:
            problems.append(f"{_GR}.Steps: not with a RollingUpdatePolicy (steps shift traffic between fleets)")
        if routing is not None and (routing.Type != "ALL_AT_ONCE" or routing.WaitIntervalInSeconds != 0):
            problems.append(
                f"{_GR}.Steps: replace the TrafficRoutingConfiguration; with Steps its Type must be ALL_AT_ONCE "
                f"and its WaitIntervalInSeconds 0 (got {routing.Type}, {routing.WaitIntervalInSeconds})"
            )
        bakes = sum(s.BakeInSeconds for s in ext.Steps) + ((bg.TerminationWaitInSeconds or 0) if bg else 0)
        timeout = bg.MaximumExecutionTimeoutInSeconds if bg is not None else None
        if timeout is not None and timeout <= bakes:
            problems.append(
                f"{_BG}.MaximumExecutionTimeoutInSeconds: must be larger than the steps' bakes and "
                f"TerminationWaitInSeconds ({bakes}), got {timeout}"
            )
    if ext.Judge is not None:
        split = (
            ru is not None
            or (ext.Steps is not None and ext.Steps[0].TrafficPercent < 100)
            or (ext.Steps is None and routing is not None and routing.Type != "ALL_AT_ONCE")
        )
        if not split:
            problems.append(
                f"{_GR}.Judge: needs a step where both fleets take traffic (CANARY, LINEAR, a "
                "RollingUpdatePolicy, or Steps below 100 %)"
            )
    return problems


def _routing_checks(tr: TrafficRoutingConfig) -> list[str]:
    problems: list[str] = []
    if tr.Type == "CANARY" and tr.CanarySize is None:
        problems.append(f"{_TR}.CanarySize: required when Type is CANARY")
    if tr.Type != "CANARY" and tr.CanarySize is not None:
        problems.append(f"{_TR}.CanarySize: allowed only when Type is CANARY (Type is {tr.Type})")
    if tr.Type == "LINEAR" and tr.LinearStepSize is None:
        problems.append(f"{_TR}.LinearStepSize: required when Type is LINEAR")
    if tr.Type != "LINEAR" and tr.LinearStepSize is not None:
        problems.append(f"{_TR}.LinearStepSize: allowed only when Type is LINEAR (Type is {tr.Type})")
    if tr.CanarySize is not None:
        problems += _percent_check(f"{_TR}.CanarySize", tr.CanarySize, 1, 50)
    if tr.LinearStepSize is not None:
        problems += _percent_check(f"{_TR}.LinearStepSize", tr.LinearStepSize, 10, 50)
    return problems


def _timeout_checks(prefix: str, timeout: int | None, minimum: int) -> list[str]:
    if timeout is not None and timeout < minimum:
        return [f"{prefix}.MaximumExecutionTimeoutInSeconds: must be at least {minimum}, got {timeout}"]
    return []


def _percent_check(path: str, size: CapacitySize, low: int, high: int) -> list[str]:
    if size.Type == "CAPACITY_PERCENT" and not low <= size.Value <= high:
        return [f"{path}.Value: a CAPACITY_PERCENT must be between {low} and {high}, got {size.Value}"]
    return []


def check_fleets(config: DeploymentConfig | None, old: FleetSpec, new: FleetSpec) -> None:
    """The checks that need the fleets; raise ValidationError. No DeploymentConfig: nothing to check
    (SageMaker's default all-at-once blue/green accepts any change of variants)."""
    if config is None:
        return
    problems: list[str] = []
    if sorted(old.variant_names) != sorted(new.variant_names):
        problems.append(
            "EndpointConfigName: with a DeploymentConfig the new endpoint config must keep the variant "
            f"names of the current one ({', '.join(old.variant_names)}), got {', '.join(new.variant_names)}"
        )
    bg, ru = config.BlueGreenUpdatePolicy, config.RollingUpdatePolicy
    if bg is not None:
        tr = bg.TrafficRoutingConfiguration
        if tr.CanarySize is not None:
            problems += _count_check(f"{_TR}.CanarySize", tr.CanarySize, 0, 50, new.total, "new fleet")
        if tr.LinearStepSize is not None:
            problems += _count_check(f"{_TR}.LinearStepSize", tr.LinearStepSize, 10, 50, new.total, "new fleet")
    if ru is not None:
        if len(new.variants) != 1 or len(old.variants) != 1:
            problems.append(f"{_RU}: rolling deployments are not supported on multi-variant endpoints")
        else:
            total = new.variants[0].instance_count
            problems += _count_check(f"{_RU}.MaximumBatchSize", ru.MaximumBatchSize, 5, 50, total, "variant")
    if problems:
        raise ValidationError("; ".join(problems))


def _count_check(path: str, size: CapacitySize, low: int, high: int, total: int, of: str) -> list[str]:
    if size.Type != "INSTANCE_COUNT":
        return []
    # Exact rational comparison: low% * total <= Value <= high% * total.
    if 100 * size.Value > high * total or 100 * size.Value < low * total:
        bounds = f"{low}-{high}%" if low else f"at most {high}%"
        return [f"{path}.Value: {size.Value} instance(s) must be {bounds} of the {of}'s {total} instance(s)"]
    return []
