"""The instance backend interface: what the control plane asks of whatever runs instances (local
processes today; a remote scheduler such as Ray tomorrow).

A handle is an address (host, port) plus an opaque backend reference (the local backend's pid and
token): the control plane persists both and hands them back after a restart, and never reads the
reference itself. ``start`` may answer before the instance has an address (a remote backend places it
later); the reconciler then asks ``locate`` on each pass until it has one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from greenfleet.metrics.procfs import Usage

BackendRef = dict[str, str | int]
"""Opaque to the control plane; JSON-serialisable so the store can keep it."""


@dataclass(frozen=True)
class InstanceSpec:
    """What to run: one instance of one variant of one fleet (endpoint config) of one endpoint."""

    instance_id: str
    endpoint_name: str
    fleet_id: int
    config_name: str
    variant_name: str
    container: dict[str, Any]  # the snapshot of SageMaker's ContainerDefinition (Image, ModelDataUrl, Environment)
    instance_type: str | None = None
    """The variant's InstanceType (``ml.m5.large``): what a remote backend reserves for it
    (``instance_types.py``)."""
    memory_mb: int | None = None
    """A serverless variant's MemorySizeInMB: the backend enforces it where the OS allows (RLIMIT_AS)."""
    niceness: int = 0
    """The CPU niceness the instance's processes run at (a shadow variant's: ``Settings.shadow_niceness``)."""
    scheduling: str = "normal"
    """The scheduling policy of the instance's processes: ``normal``, or ``idle`` (Linux SCHED_IDLE: only
    CPU time nothing else wants; a shadow variant's with ``Settings.shadow_scheduling`` "idle")."""
    invocation_timeout_s: float | None = None
    """The instance's own invocation timeout (GREENFLEET_INVOCATION_TIMEOUT_S) when not the server's: an
    asynchronous variant's is the largest InvocationTimeoutSeconds (3600 s), the dispatcher enforcing each
    request's own (the server's, 60 s by default, is InvokeEndpoint's)."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int


@dataclass(frozen=True)
class InstanceHandle:
    """A started instance as the control plane knows it (persisted so a restarted server adopts it)."""

    instance_id: str
    address: Address | None
    """None while the backend has not placed the instance yet ("address pending")."""
    started_at: float
    ref: BackendRef = field(default_factory=dict, compare=False)

    def located(self, address: Address) -> InstanceHandle:
        return InstanceHandle(self.instance_id, address, self.started_at, self.ref)


@dataclass(frozen=True)
class Exit:
    """An instance that stopped by itself, with the reason it gave (if any)."""

    code: int | None
    reason: str | None


class InstanceBackend(Protocol):
    def start(self, spec: InstanceSpec, now: float) -> InstanceHandle:
        """Launch the instance; returns at once (readiness is seen through GET /ping), possibly before it has
        an address."""
        ...

    def locate(self, handle: InstanceHandle) -> Address | None:
        """The address of an instance started without one, once the backend has placed it."""
        ...

    def exited(self, handle: InstanceHandle) -> Exit | None:
        """None while the instance runs; its exit otherwise."""
        ...

    def stop(self, handle: InstanceHandle) -> None:
        """Ask the instance to stop (graceful), escalating to a kill if it lingers; returns at once."""
        ...

    def adopt(self, handle: InstanceHandle) -> bool:
        """True if ``handle`` (from before a control-plane restart) is still that same live instance."""
        ...

    def sample(self, handle: InstanceHandle, now: float) -> Usage | None:
        """CPU and memory use since the previous sample of this instance (None until there are two)."""
        ...

    def close(self, stop_instances: bool) -> None:
        """Release resources; optionally stop every instance this backend started or adopted."""
        ...
