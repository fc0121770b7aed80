"""``DeploymentConfig.GreenfleetRollout``: greenfleet's additions to SageMaker's DeploymentConfig, in the same
PascalCase JSON. SageMaker's members validate exactly as before; boto3 validates DeploymentConfig on the
client side, so this member is for greenfleet's own API, client, CLI and manifests.

    "GreenfleetRollout": {
      "Steps": [{"TrafficPercent": 1, "BakeInSeconds": 300},
                {"TrafficPercent": 25, "BakeInSeconds": 600, "RequireApproval": true},
                {"TrafficPercent": 100}],
      "Checks": [{"Name": "integration", "Point": "PRE_TRAFFIC", "Url": "https://ci.example/hook",
                  "TimeoutInSeconds": 30, "Retries": 2},
                 {"Name": "load", "Point": "PRE_TRAFFIC",
                  "LoadTest": {"PayloadsFile": "s3://bucket/payloads.jsonl", "Requests": 200,
                               "MaxErrorRate": 0.01, "MaxP99LatencyInMilliseconds": 250}}],
      "Judge": {"Metrics": [...]}                                  (greenfleet.judge.config)
    }

- Steps: an explicit traffic schedule for green (strategy STEPS), instead of CANARY / LINEAR. Percentages
  strictly increase and end at 100. Each step bakes BakeInSeconds; with RequireApproval its traffic is then
  held until an APPROVE (or PROMOTE) command. Not with RollingUpdatePolicy; with a BlueGreenUpdatePolicy
  (for TerminationWaitInSeconds and MaximumExecutionTimeoutInSeconds) its TrafficRoutingConfiguration must
  be ALL_AT_ONCE with WaitIntervalInSeconds 0, so that nothing is ignored.
- Checks: webhooks (``Url``: POST of a JSON payload; a 2xx answer passes, anything else or a timeout
  fails, after Retries more attempts) or the built-in load test (``LoadTest``: send Requests payloads to
  green directly, fail above MaxErrorRate or the latency bound). Points: PRE_TRAFFIC (green is ready, no
  traffic yet), STEP (after each step's bake), PRE_PROMOTION (before all traffic moves to green),
  POST_COMPLETION and POST_ROLLBACK (notifications once the outcome is settled). A failing check at the
  first three rolls back.
- Judge: the relative canary judge while green and blue share traffic.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenfleet.judge.config import JudgeConfig, judge_problems

__all__ = [
    "CheckConfig",
    "CheckPointName",
    "LoadTestConfig",
    "RolloutExtension",
    "RolloutStep",
    "extension_problems",
]

CheckPointName = Literal["PRE_TRAFFIC", "STEP", "PRE_PROMOTION", "POST_COMPLETION", "POST_ROLLBACK"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RolloutStep(_Shape):
    TrafficPercent: Annotated[int, Field(ge=1, le=100)]
    BakeInSeconds: Annotated[int, Field(ge=0, le=86400)] = 0
    RequireApproval: bool = False


class LoadTestConfig(_Shape):
    PayloadsFile: Annotated[str, Field(min_length=1, max_length=1024)]
    """Sample request bodies, one per line (a path on the server or an s3:// URI)."""
    ContentType: Annotated[str, Field(min_length=1, max_length=255)] = "application/json"
    Requests: Annotated[int, Field(ge=1, le=100_000)] = 100
    Concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    MaxErrorRate: Annotated[float, Field(ge=0, le=1)] = 0.0
    MaxP99LatencyInMilliseconds: Annotated[float, Field(gt=0)] | None = None


class CheckConfig(_Shape):
    Name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    Point: CheckPointName
    Url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)] | None = None
    LoadTest: LoadTestConfig | None = None
    TimeoutInSeconds: Annotated[int, Field(ge=1, le=3600)] = 10
    """Per attempt (flagger's default)."""
    Retries: Annotated[int, Field(ge=0, le=10)] = 0
    """Attempts after the first that failed or timed out."""
    Metadata: dict[str, str] = Field(default_factory=dict)
    """Passed to the webhook in the payload."""

    @property
    def budget_s(self) -> float:
        """Longest a check may take with every attempt timing out."""
        return float(self.TimeoutInSeconds * (self.Retries + 1))


class RolloutExtension(_Shape):
    Steps: Annotated[list[RolloutStep], Field(min_length=1, max_length=20)] | None = None
    Checks: Annotated[list[CheckConfig], Field(max_length=20)] = Field(default_factory=list)
    Judge: JudgeConfig | None = None

    def checks_at(self, point: str) -> tuple[str, ...]:
        return tuple(c.Name for c in self.Checks if c.Point == point)


def extension_problems(ext: RolloutExtension, path: str) -> list[str]:
    """Checks within the extension (those involving SageMaker's members are in policy.py)."""
    problems: list[str] = []
    if ext.Steps is not None:
        percents = [s.TrafficPercent for s in ext.Steps]
        if any(b <= a for a, b in pairwise(percents)):
            problems.append(f"{path}.Steps: TrafficPercent must strictly increase, got {percents}")
        if percents[-1] != 100:
            problems.append(
                f"{path}.Steps: the last step must move all traffic (TrafficPercent 100), got {percents[-1]}"
            )
    names = [c.Name for c in ext.Checks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"{path}.Checks: check names must be unique, got {', '.join(duplicates)} twice")
    for i, check in enumerate(ext.Checks):
        if (check.Url is None) == (check.LoadTest is None):
            problems.append(f"{path}.Checks[{i}]: give exactly one of Url and LoadTest")
        if check.LoadTest is not None and check.Point == "POST_ROLLBACK":
            problems.append(f"{path}.Checks[{i}].LoadTest: not at POST_ROLLBACK (the new fleet is stopped by then)")
    if ext.Judge is not None:
        problems += judge_problems(ext.Judge, f"{path}.Judge")
    return problems
