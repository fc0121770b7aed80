"""Building the data plane's RoutingTable from desired groups and the ready instances of a snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from greenfleet.capture.config import CaptureSetting, capture_setting
from greenfleet.control.instance_groups import SERVING_STATUSES, Group, GroupKey, desired_groups
from greenfleet.control.snapshot import InstanceView
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Shadow, Target


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
        groups = desired_groups(row)
        targets = tuple(_target(group, ready.get(group.key, [])) for group in groups if not group.shadow)
        capture = row["state"].current.data_capture
        setting = capture_setting(capture.config()) if capture is not None else None
        shadows = tuple(Shadow(_target(group, ready.get(group.key, [])), group.weight, group.fleet.source_variant,
                               paired=group.fleet.experiment is not None, capture=_shadow_capture(group, setting))
                        for group in groups if group.shadow)
        routes[row["name"]] = EndpointRoute(row["name"], targets, shadows, capture=setting,
                                            record_assignments=row["state"].ab_test is not None)
    return routes


def _shadow_capture(group: Group, endpoint_capture: CaptureSetting | None) -> CaptureSetting | None:
    """An experiment's shadow captures as its DataStorageConfig says; a config's shadow as the endpoint does."""
    if group.fleet.experiment is None:
        return endpoint_capture
    own = group.fleet.data_capture
    return capture_setting(own.config()) if own is not None else None


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
