"""The instance backend interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class InstanceSpec:
    """What to run: one instance of one variant of one endpoint config."""

    instance_id: str
    endpoint_name: str
    config_name: str
    variant_name: str
    container: dict[str, Any]  # Image, ModelDataUrl, Environment (SageMaker's ContainerDefinition)

    @property
    def group_key(self) -> str:
        return f"{self.config_name}/{self.variant_name}"


@dataclass(frozen=True)
class InstanceHandle:
    """A running instance as the control plane knows it (persisted so a restarted server adopts it)."""

    instance_id: str
    host: str
    port: int
    pid: int
    token: str
    started_at: float


@dataclass(frozen=True)
class Exit:
    """An instance that stopped by itself, with the reason it gave (if any)."""

    code: int | None
    reason: str | None


class InstanceBackend(Protocol):
    def start(self, spec: InstanceSpec, now: float) -> InstanceHandle:
        """Launch the instance; returns at once (readiness is seen through GET /ping)."""
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

    def close(self, stop_instances: bool) -> None:
        """Release resources; optionally stop every instance this backend started or adopted."""
        ...
