"""An instance backend without processes, for tick-by-tick tests of control/: instances are placed (get
an address) ``place_after_s`` after they start, answer the health check ``ready_after_s`` after they
start, and die or turn unhealthy when a test says so. Its ``ping`` is the reconciler's pinger."""

from __future__ import annotations

from dataclasses import dataclass, field

from greenfleet.clock import Clock
from greenfleet.instances.backend import Address, Exit, InstanceHandle, InstanceSpec
from greenfleet.metrics.procfs import Usage


@dataclass
class FakeInstance:
    spec: InstanceSpec
    started_at: float
    port: int
    placed: bool = False
    dead: str | None = None
    """Why it stopped by itself (None while it runs)."""
    stopped: bool = False
    healthy: bool = True
    pings: int = 0


@dataclass
class FakeBackend:
    clock: Clock
    host: str = "10.0.0.7"
    place_after_s: float = 0.0
    ready_after_s: float = 0.0
    fixed_port: int | None = None
    """Give every instance this port (a real server standing in for the instances, for real pings)."""
    instances: dict[str, FakeInstance] = field(default_factory=dict)
    adopted: list[str] = field(default_factory=list)
    closed: bool = False
    _next_port: int = 20000

    # --- InstanceBackend ------------------------------------------------------------------------------
    def start(self, spec: InstanceSpec, now: float) -> InstanceHandle:
        self._next_port += 1
        port = self.fixed_port or self._next_port
        instance = FakeInstance(spec, now, port, placed=self.place_after_s <= 0)
        self.instances[spec.instance_id] = instance
        address = Address(self.host, instance.port) if instance.placed else None
        return InstanceHandle(spec.instance_id, address, now, {"token": f"t-{spec.instance_id}"})

    def locate(self, handle: InstanceHandle) -> Address | None:
        instance = self.instances[handle.instance_id]
        if not instance.placed and self.clock.now() >= instance.started_at + self.place_after_s:
            instance.placed = True
        return Address(self.host, instance.port) if instance.placed else None

    def exited(self, handle: InstanceHandle) -> Exit | None:
        instance = self.instances.get(handle.instance_id)
        if instance is None:
            return Exit(None, "unknown instance")
        return Exit(1, instance.dead) if instance.dead else None

    def stop(self, handle: InstanceHandle) -> None:
        self.instances[handle.instance_id].stopped = True

    def adopt(self, handle: InstanceHandle) -> bool:
        instance = self.instances.get(handle.instance_id)
        alive = instance is not None and not instance.stopped and instance.dead is None \
            and handle.ref.get("token") == f"t-{handle.instance_id}"
        if alive:
            self.adopted.append(handle.instance_id)
        return alive

    def sample(self, handle: InstanceHandle, now: float) -> Usage | None:
        return Usage(12.5, 3.0)

    def close(self, stop_instances: bool) -> None:
        self.closed = True
        if stop_instances:
            for instance in self.instances.values():
                instance.stopped = True

    # --- the reconciler's pinger ----------------------------------------------------------------------
    async def ping(self, address: Address) -> bool:
        instance = next((i for i in self.instances.values() if i.port == address.port), None)
        if instance is None:
            return False
        instance.pings += 1
        return (not instance.stopped and instance.dead is None and instance.healthy
                and self.clock.now() >= instance.started_at + self.ready_after_s)

    # --- what tests do to the world -----------------------------------------------------------------
    def running(self, endpoint: str | None = None) -> list[FakeInstance]:
        return [i for i in self.instances.values() if not i.stopped and i.dead is None
                and (endpoint is None or i.spec.endpoint_name == endpoint)]

    def kill(self, instance_id: str, reason: str = "the model server crashed") -> None:
        self.instances[instance_id].dead = reason
