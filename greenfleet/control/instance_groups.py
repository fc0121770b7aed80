"""Desired instance groups of an endpoint, the ceilings that bound them, and the control plane's record of
each running instance.

A group is one variant of one fleet of one endpoint, keyed by the structured :class:`GroupKey`. An
endpoint serves its current production fleet or, during a deployment, two (the green one takes its
``traffic`` percent); a shadow fleet's groups run beside them and get copies of requests, never a share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from greenfleet.instances.backend import Address, InstanceHandle, InstanceSpec
from greenfleet.resources.endpoint_state import DesiredState, Fleet, VariantDesired

SERVING_STATUSES = {"InService", "Updating", "RollingBack", "UpdateRollbackFailed", "SystemUpdating"}


class GroupKey(NamedTuple):
    endpoint: str
    fleet_id: int
    variant: str

    def __str__(self) -> str:
        return f"{self.endpoint}/{self.fleet_id}/{self.variant}"


@dataclass(frozen=True)
class Group:
    endpoint: str
    fleet: Fleet
    variant: VariantDesired

    @property
    def key(self) -> GroupKey:
        return GroupKey(self.endpoint, self.fleet.id, self.variant.name)

    @property
    def config_name(self) -> str:
        return self.fleet.config_name

    @property
    def shadow(self) -> bool:
        return self.fleet.role == "shadow"

    @property
    def series_name(self) -> str:
        """The EndpointConfigName its invocations are recorded under (a baseline's own, apart from blue's)."""
        return self.fleet.series_name or self.fleet.config_name

    @property
    def count(self) -> int:
        return self.variant.desired_count

    @property
    def weight(self) -> float:
        """The group's share of the endpoint's requests (percent); for a shadow, its sampling percentage."""
        if self.shadow:
            return max(0.0, min(100.0, self.fleet.traffic))
        total = sum(max(0.0, v.desired_weight) for v in self.fleet.variants)
        if total <= 0:
            return 0.0
        return max(0.0, self.fleet.traffic) * max(0.0, self.variant.desired_weight) / total


def desired_groups(row: dict[str, Any]) -> list[Group]:
    """The groups an endpoint row asks for (none once it is deleting or failed)."""
    if row["status"] in ("Deleting", "Failed"):
        return []
    state: DesiredState = row["state"]
    return [Group(row["name"], fleet, variant)
            for fleet in state.fleets for variant in fleet.variants]


@dataclass(frozen=True)
class Ceilings:
    """The most instances the reconciler starts, whatever the store says (the entry points refuse larger
    requests; this is the last line of defence against a bad stored value)."""

    per_variant: int
    per_endpoint: int
    total: int


def allowed_counts(groups: list[Group], ceilings: Ceilings | None) -> dict[GroupKey, int]:
    """Each group's count bounded by the ceilings, granted in order (endpoints by name, then each
    endpoint's groups as listed: its current fleet before a green one)."""
    if ceilings is None:
        return {g.key: g.count for g in groups}
    allowed: dict[GroupKey, int] = {}
    left_total = ceilings.total
    per_endpoint: dict[str, int] = {}
    for group in sorted(groups, key=lambda g: g.endpoint):
        left_endpoint = per_endpoint.setdefault(group.endpoint, ceilings.per_endpoint)
        n = max(0, min(group.count, ceilings.per_variant, left_endpoint, left_total))
        allowed[group.key] = n
        per_endpoint[group.endpoint] -= n
        left_total -= n
    return allowed


@dataclass
class Managed:
    """One instance as the control plane tracks it."""

    spec: InstanceSpec
    handle: InstanceHandle
    startup_timeout_s: float
    startup_deadline: float = 0.0
    """A starting instance not ready by then is replaced (ContainerStartupHealthCheckTimeoutInSeconds)."""
    phase: str = "starting"  # starting → ready → draining → (stopped); or starting → failed
    ready_at: float | None = None
    setup_recorded: bool = False
    """ModelSetupTime was recorded (by this server or, for an adopted instance, the one before)."""
    ping_failures: int = 0
    pinged_at: float = float("-inf")
    drain_revision: int = 0
    drain_started_at: float | None = None

    @property
    def instance_id(self) -> str:
        return self.spec.instance_id

    @property
    def key(self) -> GroupKey:
        return GroupKey(self.spec.endpoint_name, self.spec.fleet_id, self.spec.variant_name)


def adopted(record: dict[str, Any], startup_timeout_s: float, now: float) -> Managed:
    """An instance a previous server left running, from its stored record: the exact spec it was started
    with (through the structured columns) and, if it was ever ready, no second ModelSetupTime."""
    address = Address(record["host"], record["port"]) if record["host"] and record["port"] else None
    handle = InstanceHandle(record["id"], address, record["started_at"], dict(record["backend_ref"]))
    spec = InstanceSpec(record["id"], record["endpoint_name"], int(record["fleet_id"]), record["config_name"],
                        record["variant_name"], dict(record["container"]), record.get("instance_type"))
    ready_at = record["ready_at"]
    return Managed(spec, handle, startup_timeout_s, ready_at=ready_at, setup_recorded=ready_at is not None,
                   startup_deadline=max(now, record["started_at"]) + startup_timeout_s)


@dataclass
class GroupHealth:
    """What went wrong in a group lately; restarts back off, and the back-off starts over once an
    instance of the group has been healthy for a while."""

    failure: str | None = None
    failure_at: float | None = None
    next_start_at: float = 0.0
    restarts: int = 0
    startup_failures: int = 0
    """Instances that could not start or pass their first health check (not later crashes)."""
    startup_failure_at: float | None = None
