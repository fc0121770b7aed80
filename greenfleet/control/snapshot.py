"""What the instance layer observed, published once per pass as an immutable snapshot: every
instance (group, phase, address, requests in flight) and every group's health. The controllers after
the instance step read this and nothing of the reconciler's or the router's internals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from greenfleet.control.instance_groups import GroupKey
from greenfleet.instances.backend import Address, InstanceHandle


@dataclass(frozen=True)
class InstanceView:
    instance_id: str
    key: GroupKey
    config_name: str
    phase: str  # starting | ready | draining
    handle: InstanceHandle
    ready_at: float | None
    in_flight: int
    """Requests the router had in flight to this instance when the snapshot was taken."""

    @property
    def address(self) -> Address | None:
        return self.handle.address


@dataclass(frozen=True)
class GroupView:
    """A group's health as of the snapshot: the last failure, restarts and the back-off."""

    failure: str | None = None
    failure_at: float | None = None
    restarts: int = 0
    startup_failures: int = 0
    startup_failure_at: float | None = None
    next_start_at: float = 0.0
    allowed: int | None = None
    """How many instances the reconciler keeps for the group (its desired count within the ceilings)."""


EMPTY_GROUP = GroupView()


@dataclass(frozen=True)
class Snapshot:
    now: float
    pass_number: int
    instances: tuple[InstanceView, ...]
    groups: Mapping[GroupKey, GroupView] = field(default_factory=lambda: MappingProxyType({}))
    endpoints: tuple[dict[str, Any], ...] = ()
    """The endpoint rows (desired state) the pass started from."""

    def members(self, endpoint: str, fleet_id: int | None = None, variant: str | None = None) -> list[InstanceView]:
        return [i for i in self.instances if i.key.endpoint == endpoint
                and (fleet_id is None or i.key.fleet_id == fleet_id)
                and (variant is None or i.key.variant == variant)]

    def group(self, key: GroupKey) -> GroupView:
        return self.groups.get(key, EMPTY_GROUP)

    def ready(self) -> list[InstanceView]:
        return [i for i in self.instances if i.phase == "ready"]
