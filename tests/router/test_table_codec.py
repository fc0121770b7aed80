"""The routing table through the store's JSON and back, field by field: every field of every part is set
to something other than its default here, and a field added later without being carried fails the
completeness check (a follower or ``greenfleet router`` process would otherwise serve with the feature
off: no mirroring, no capture, no A/B records, serverless or async targets served as real-time ones)."""

from __future__ import annotations

import dataclasses
import json
from random import Random
from typing import Any

from greenfleet.capture.config import CaptureSetting
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Shadow, Target
from greenfleet.router.table_codec import dump_table, load_table

CAPTURE = CaptureSetting("s3://bucket/capture", 40, False, True, frozenset({"text/csv", "text/x-csv"}),
                         frozenset({"application/json"}), "arn:aws:kms:us-east-1:000000000000:key/k")
ASYNC = Target("queue", "c-async", 1.0, "RANDOM", (InstanceAddress("a-1", "127.0.0.1", 9300),), async_concurrency=4)
DIRECT = Target("direct", "c-direct", 0.5, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("d-1", "10.0.0.9", 9400),),
                container_hostnames=("pre", "model", "post"))
SERVERLESS = Target("cold", "c-cold", 0.5, "RANDOM", (), max_concurrency=20)
SHADOW = Shadow(Target("cand", "c1", 0.0, "RANDOM", (InstanceAddress("s-1", "127.0.0.1", 9500),)), 25.0,
                source_variant="direct", paired=True, capture=CAPTURE)
TABLE = RoutingTable(12, {
    "shop": EndpointRoute("shop", (DIRECT, SERVERLESS), (SHADOW,), record_assignments=True, capture=CAPTURE),
    "jobs": EndpointRoute("jobs", (ASYNC,))})


def test_every_field_survives_the_round_trip_through_json() -> None:
    stored = json.loads(json.dumps(dump_table(TABLE)))  # as the store keeps it
    assert load_table(stored) == TABLE
    back = load_table(stored).endpoints["shop"]
    assert back.choose(Random(1), "cold") == SERVERLESS  # a serverless target takes requests with no instance
    assert back.shadows[0].capture is not None and back.shadows[0].capture.encoding_of("text/x-csv") == "CSV"


def _default(item: dataclasses.Field[Any]) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return dataclasses.MISSING  # a required field: any value proves it


def _at_default(parts: tuple[Any, ...], kind: type) -> list[str]:
    """Fields of ``kind`` that every one of ``parts`` leaves at the default (the round trip would not prove)."""
    return [f"{kind.__name__}.{item.name}" for item in dataclasses.fields(kind)
            if item.init and all(getattr(part, item.name) == _default(item) for part in parts)]


def test_the_round_trip_covers_every_field_of_every_part() -> None:
    shop = TABLE.endpoints["shop"]
    assert _at_default((CAPTURE,), CaptureSetting) + _at_default((SHADOW,), Shadow) + _at_default(
        (shop,), EndpointRoute) + _at_default((ASYNC, DIRECT, SERVERLESS, SHADOW.target), Target) == []


def test_a_table_saved_before_the_later_fields_reads_back_with_their_defaults() -> None:
    old = {"revision": 3, "endpoints": [{"name": "e", "targets": [
        {"variant": "main", "config": "c1", "weight": 1.0, "strategy": "RANDOM",
         "instances": [["e-main-1", "127.0.0.1", 9001]]}]}]}
    route = load_table(old).endpoints["e"]
    assert route == EndpointRoute("e", (Target("main", "c1", 1.0, "RANDOM",
                                                (InstanceAddress("e-main-1", "127.0.0.1", 9001),)),))
    assert route.shadows == () and route.capture is None and not route.record_assignments
