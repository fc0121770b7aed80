"""What the reconciler writes back: endpoint status transitions it owns (Creating → InService or
Failed, Updating → InService, Deleting → gone) and the observed per-variant weights and counts.
While a deployment runs, its driver owns the status; this only refreshes the observed figures."""

from __future__ import annotations

import copy
from typing import Any

from greenfleet.control.instance_groups import Group, GroupHealth, Managed, desired_groups


def observe_endpoint(row: dict[str, Any], members: list[Managed], health: dict[str, GroupHealth],
                     now: float) -> dict[str, Any] | None:
    status = row["status"]
    if status == "Deleting":
        return {"_delete": True} if not members else None
    if status == "Failed":
        return None
    groups = desired_groups(row)
    ready = _count(members, "ready")
    state = copy.deepcopy(row["state"])
    _refresh(state, groups, ready)
    changes: dict[str, Any] = {}
    if status == "Creating":
        failure = _failure(groups, health, row["modified_at"])
        if failure is not None:
            changes.update(status="Failed", failure_reason=failure)
        elif all(ready.get(g.key, 0) >= g.count for g in groups):
            changes.update(status="InService", failure_reason=None)
    elif status in ("Updating", "SystemUpdating") and state.get("deployment") is None:
        settled = all(ready.get(g.key, 0) == g.count for g in groups)
        draining = any(m.phase in ("draining", "starting") for m in members)
        if settled and not draining:
            changes["status"] = "InService"
    if state != row["state"]:
        changes["state"] = state
    if not changes:
        return None
    if "status" in changes:
        changes["modified_at"] = now
    return changes


def _count(members: list[Managed], phase: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for managed in members:
        if managed.phase == phase:
            counts[managed.group_key] = counts.get(managed.group_key, 0) + 1
    return counts


def _refresh(state: dict[str, Any], groups: list[Group], ready: dict[str, int]) -> None:
    fleets = {int(state.get("fleet_id", 1)): state["variants"]}
    if state.get("pending"):
        fleets[int(state["pending"]["fleet_id"])] = state["pending"]["variants"]
    for group in groups:
        for variant in fleets.get(group.fleet_id, []):
            if variant["VariantName"] == group.variant["VariantName"]:
                variant["CurrentInstanceCount"] = ready.get(group.key, 0)
                if ready.get(group.key, 0) > 0 or group.count == 0:
                    variant["CurrentWeight"] = variant["DesiredWeight"]


def _failure(groups: list[Group], health: dict[str, GroupHealth], since: float) -> str | None:
    for group in groups:
        record = health.get(group.key)
        if record and record.failure and (record.failure_at or 0) >= since:
            return f"Variant {group.variant['VariantName']}: {record.failure}"
    return None
