"""Building the data plane's RoutingTable from desired groups and ready instances."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from greenfleet.capture.config import capture_setting
from greenfleet.control.instance_groups import SERVING_STATUSES, Group, Managed, desired_groups
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target


def build_routes(rows: Iterable[dict[str, Any]], instances: Iterable[Managed]) -> dict[str, EndpointRoute]:
    ready: dict[str, list[InstanceAddress]] = {}
    for managed in instances:
        if managed.phase == "ready":
            handle = managed.handle
            ready.setdefault(managed.group_key, []).append(
                InstanceAddress(handle.instance_id, handle.host, handle.port))
    routes = {}
    for row in rows:
        if row["status"] not in SERVING_STATUSES:
            continue
        targets = tuple(_target(group, ready.get(group.key, [])) for group in desired_groups(row))
        capture = capture_setting(row["state"].get("data_capture"))
        routes[row["name"]] = EndpointRoute(row["name"], targets, capture)
    return routes


def _target(group: Group, addresses: list[InstanceAddress]) -> Target:
    return Target(
        variant_name=group.variant["VariantName"],
        config_name=group.config_name,
        weight=group.weight,
        strategy=group.variant.get("RoutingStrategy", "LEAST_OUTSTANDING_REQUESTS"),
        instances=tuple(sorted(addresses, key=lambda a: a.instance_id)),
    )


def next_table(current: RoutingTable, routes: dict[str, EndpointRoute]) -> RoutingTable | None:
    """A new table if anything changed, else None."""
    if routes == current.endpoints:
        return None
    return RoutingTable(revision=current.revision + 1, endpoints=routes)
