"""The routing table as JSON, for the store: what the leader saves and every other router (an HA follower
server's, a ``greenfleet router`` process's) serves from. Every field of the table travels: a router that
reads it back routes, mirrors, captures, records A/B assignments and holds serverless requests exactly as
the leader's own router does (a field left out would silently switch that feature off on every other
router). Tables saved before a field existed read back with that field's default."""

from __future__ import annotations

from typing import Any

from greenfleet.capture.config import CaptureSetting
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Shadow, Target

Doc = dict[str, Any]


def dump_table(table: RoutingTable) -> Doc:
    return {"revision": table.revision, "endpoints": [_dump_route(route) for route in table.endpoints.values()]}


def load_table(body: Doc) -> RoutingTable:
    routes = (_load_route(route) for route in body["endpoints"])
    return RoutingTable(int(body["revision"]), {route.name: route for route in routes})


def _dump_route(route: EndpointRoute) -> Doc:
    return {"name": route.name, "targets": [_dump_target(t) for t in route.targets],
            "shadows": [{"target": _dump_target(s.target), "sampling_percentage": s.sampling_percentage,
                         "source_variant": s.source_variant, "paired": s.paired, "capture": _dump_capture(s.capture)}
                        for s in route.shadows],
            "record_assignments": route.record_assignments, "capture": _dump_capture(route.capture)}


def _load_route(body: Doc) -> EndpointRoute:
    shadows = tuple(Shadow(_load_target(s["target"]), float(s["sampling_percentage"]), s.get("source_variant"),
                           bool(s.get("paired", False)), _load_capture(s.get("capture")))
                    for s in body.get("shadows", ()))
    return EndpointRoute(body["name"], tuple(_load_target(t) for t in body["targets"]), shadows,
                         bool(body.get("record_assignments", False)), _load_capture(body.get("capture")))


def _dump_target(target: Target) -> Doc:
    return {"variant": target.variant_name, "config": target.config_name, "weight": target.weight,
            "strategy": target.strategy, "instances": [[i.instance_id, i.host, i.port] for i in target.instances],
            "async_concurrency": target.async_concurrency, "container_hostnames": list(target.container_hostnames),
            "max_concurrency": target.max_concurrency}


def _load_target(body: Doc) -> Target:
    limit = body.get("max_concurrency")
    return Target(body["variant"], body["config"], float(body["weight"]), body["strategy"],
                  tuple(InstanceAddress(str(i), str(h), int(p)) for i, h, p in body["instances"]),
                  int(body.get("async_concurrency", 0)), tuple(str(h) for h in body.get("container_hostnames", ())),
                  None if limit is None else int(limit))


def _dump_capture(setting: CaptureSetting | None) -> Doc | None:
    if setting is None:
        return None
    return {"destination": setting.destination, "sampling_percentage": setting.sampling_percentage,
            "capture_input": setting.capture_input, "capture_output": setting.capture_output,
            "csv_types": sorted(setting.csv_types), "json_types": sorted(setting.json_types),
            "kms_key_id": setting.kms_key_id}


def _load_capture(body: Doc | None) -> CaptureSetting | None:
    if body is None:
        return None
    return CaptureSetting(str(body["destination"]), int(body["sampling_percentage"]), bool(body["capture_input"]),
                          bool(body["capture_output"]), frozenset(body["csv_types"]), frozenset(body["json_types"]),
                          body.get("kms_key_id"))
