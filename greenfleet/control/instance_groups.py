"""Desired instance groups of an endpoint, and the control plane's record of each running instance.

An endpoint serves one fleet (its current config, ``state["fleet_id"]``) or, during a deployment,
two: the current one and ``state["pending"]`` (the green fleet), which takes ``pending["traffic"]``
percent of the traffic. A group is one variant of one fleet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from greenfleet.instances.backend import InstanceHandle, InstanceSpec

SERVING_STATUSES = {"InService", "Updating", "RollingBack", "UpdateRollbackFailed", "SystemUpdating"}


@dataclass(frozen=True)
class Group:
    endpoint: str
    fleet_id: int
    config_name: str
    variant: dict[str, Any]
    share: float  # percent of the endpoint's traffic going to this group's fleet
    fleet_weight_total: float

    @property
    def key(self) -> str:
        return f"{self.endpoint}/{self.fleet_id}/{self.variant['VariantName']}"

    @property
    def count(self) -> int:
        return int(self.variant["DesiredInstanceCount"])

    @property
    def weight(self) -> float:
        if self.fleet_weight_total <= 0:
            return 0.0
        return self.share * float(self.variant["DesiredWeight"]) / self.fleet_weight_total


def desired_groups(row: dict[str, Any]) -> list[Group]:
    if row["status"] in ("Deleting", "Failed"):
        return []
    state = row["state"]
    pending = state.get("pending")
    pending_share = float(pending["traffic"]) if pending else 0.0
    fleets = [(int(state.get("fleet_id", 1)), row["config_name"], state["variants"], 100.0 - pending_share)]
    if pending:
        fleets.append((int(pending["fleet_id"]), pending["config_name"], pending["variants"], pending_share))
    groups: list[Group] = []
    for fleet_id, config_name, variants, share in fleets:
        total = sum(float(v["DesiredWeight"]) for v in variants)
        groups.extend(Group(row["name"], fleet_id, config_name, v, share, total) for v in variants)
    return groups


@dataclass
class Managed:
    """One instance as the control plane tracks it."""

    spec: InstanceSpec
    handle: InstanceHandle
    group_key: str
    startup_timeout_s: float
    phase: str = "starting"  # starting → ready → draining → (stopped); or starting → failed
    ready_at: float | None = None
    ping_failures: int = 0
    drain_revision: int = 0
    drain_started_at: float | None = None

    @property
    def instance_id(self) -> str:
        return self.spec.instance_id


@dataclass
class GroupHealth:
    """What went wrong in a group lately; restarts back off."""

    failure: str | None = None
    failure_at: float | None = None
    next_start_at: float = 0.0
    restarts: int = 0
    startup_failures: int = 0
    """Instances that could not start or pass their first health check (not later crashes)."""
    startup_failure_at: float | None = None
