"""Building the data plane's RoutingTable from desired groups and the ready instances of a snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from greenfleet.capture.config import capture_setting
from greenfleet.control.instance_groups import SERVING_STATUSES, Group, GroupKey, desired_groups
from greenfleet.control.snapshot import InstanceView
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target


def build_routes(rows: Iterable[dict[str, Any]], instances: Iterable[InstanceView]) -> dict[str, EndpointRoute]:
    ready: dict[GroupKey, list[InstanceAddress]] = {}
    for instance in instances:
        if instance.phase == "ready" and instance.address is not None:
            ready.setdefault(instance.key, []).append(
                InstanceAddress(instance.instance_id, instance.address.host, instance.address.port))
    routes = {}
    for row in rows:
        if row["status"] not in SERVING_STATUSES:
            continue
        targets = tuple(_target(group, ready.get(group.key, [])) for group in desired_groups(row))
        capture = row["state"].current.data_capture
        setting = capture_setting(capture.config()) if capture is not None else None
        routes[row["name"]] = EndpointRoute(row["name"], targets, setting)
    return routes


def _target(group: Group, addresses: list[InstanceAddress]) -> Target:
    return Target(
        variant_name=group.variant.name,
        config_name=group.series_name,
        weight=group.weight,
        strategy=group.variant.routing_strategy,
        instances=tuple(sorted(addresses, key=lambda a: a.instance_id)),
        max_concurrency=group.variant.serverless.max_concurrency if group.variant.serverless else None,
        async_concurrency=group.fleet.asynchronous.max_concurrent if group.fleet.asynchronous else 0,
        container_hostnames=_direct_hostnames(group),
    )


def _direct_hostnames(group: Group) -> tuple[str, ...]:
    pipeline = group.variant.pipeline
    if pipeline is None or pipeline.Mode != "Direct":
        return ()
    return tuple(c.ContainerHostname or "" for c in pipeline.Containers)


def next_table(current: RoutingTable, routes: dict[str, EndpointRoute]) -> RoutingTable | None:
    """A new table if anything changed, else None."""
    if routes == current.endpoints:
        return None
    return RoutingTable(revision=current.revision + 1, endpoints=routes)
