"""What the reconciler writes back: the endpoint status transitions it owns (Creating → InService or
Failed, Updating → InService, Deleting → gone), in the endpoint row, and the observed figures (current
counts and weights, SageMaker's VariantStatus), in the observation row. While a deployment runs, its
driver owns the status; this only refreshes the observed figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from greenfleet.control.instance_groups import Group, GroupHealth, GroupKey, Managed, desired_groups
from greenfleet.resources.endpoint_state import (
    DesiredState,
    ObservedState,
    VariantObserved,
    VariantStatus,
    VariantStatusName,
)


@dataclass(frozen=True)
class EndpointObservation:
    changes: dict[str, Any] | None = None
    """Columns of the endpoint row to write (a status transition), if any."""
    observed: ObservedState | None = None
    """The new observed figures, if they changed."""
    delete: bool = False


def observe_endpoint(row: dict[str, Any], before: ObservedState, members: list[Managed],
                     health: dict[GroupKey, GroupHealth], allowed: dict[GroupKey, int],
                     now: float) -> EndpointObservation:
    status = row["status"]
    if status == "Deleting":
        return EndpointObservation(delete=not members)
    if status == "Failed":
        return EndpointObservation()
    groups = desired_groups(row)
    ready = _count(members, ("ready",))
    live = _count(members, ("starting", "ready"))
    target = {g.key: allowed.get(g.key, g.count) for g in groups}
    state: DesiredState = row["state"]
    changes: dict[str, Any] = {}
    if status == "Creating":
        failure = _failure(groups, health, row["modified_at"])
        if failure is not None:
            changes.update(status="Failed", failure_reason=failure)
        elif all(ready.get(g.key, 0) >= target[g.key] for g in groups):
            changes.update(status="InService", failure_reason=None)
    elif status in ("Updating", "SystemUpdating") and state.deployment is None:
        settled = all(ready.get(g.key, 0) == target[g.key] for g in groups)
        draining = any(m.phase in ("draining", "starting") for m in members)
        if settled and not draining:
            changes["status"] = "InService"
    if "status" in changes:
        changes["modified_at"] = now
    after = ObservedState(deployment_view=before.deployment_view)
    for group in groups:
        seen = before.variant(group.fleet.id, group.variant.name)
        n_ready = ready.get(group.key, 0)
        weight = group.variant.desired_weight if n_ready > 0 or group.count == 0 else seen.current_weight
        statuses = _variant_status(group, status, n_ready, live.get(group.key, 0), target[group.key],
                                   health.get(group.key), seen, now)
        after.fleets.setdefault(str(group.fleet.id), {})[group.variant.name] = VariantObserved(
            current_count=n_ready, current_weight=weight, status=statuses)
    return EndpointObservation(changes or None, after if after.fleets != before.fleets else None)


def _variant_status(group: Group, endpoint_status: str, ready: int, live: int, allowed: int,
                    health: GroupHealth | None, seen: VariantObserved, now: float) -> list[VariantStatus]:
    """SageMaker's VariantStatus from what the instances do; empty once the variant is as desired."""
    messages: list[tuple[VariantStatusName, str]] = []
    if allowed < group.count:
        messages.append(("Updating", f"Running {allowed} of {group.count} desired instances: the server's instance "
                                     "ceiling (max_instances_per_variant / _per_endpoint / _total) holds the rest"))
    kind: VariantStatusName = "Creating" if endpoint_status == "Creating" else "Updating"
    missing = allowed - live
    if missing > 0 and health is not None and health.next_start_at > now:
        when = datetime.fromtimestamp(health.next_start_at, UTC).isoformat(timespec="seconds")
        messages.append((kind, f"{missing} replacement instance(s) held back after {health.restarts} restart(s) "
                               f"(last failure: {health.failure}); the next start is at {when}"))
    elif ready < allowed:
        messages.append((kind, f"Starting instances: {ready} of {allowed} ready"))
    elif live > allowed or ready > allowed:
        messages.append(("Deleting", f"Stopping instances: {ready} running, {allowed} desired"))
    previous: dict[tuple[str, str | None], float] = {(s.status, s.message): s.start_time for s in seen.status}
    return [VariantStatus(status=kind, message=message, start_time=previous.get((kind, message), now))
            for kind, message in messages]


def _count(members: list[Managed], phases: tuple[str, ...]) -> dict[GroupKey, int]:
    counts: dict[GroupKey, int] = {}
    for managed in members:
        if managed.phase in phases:
            counts[managed.key] = counts.get(managed.key, 0) + 1
    return counts


def _failure(groups: list[Group], health: dict[GroupKey, GroupHealth], since: float) -> str | None:
    for group in groups:
        record = health.get(group.key)
        if record and record.failure and (record.failure_at or 0) >= since:
            return f"Variant {group.variant.name}: {record.failure}"
    return None
