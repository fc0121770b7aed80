"""Instances on a Ray cluster: each one a named, detached Ray actor (:class:`InstanceSupervisor`) that
starts the worker process on the node Ray placed it on and reports the address it listens on.

- Resources: the variant's InstanceType as Ray resources (CPU, memory, GPU; ``instance_types.py``);
  instances are placed with the SPREAD strategy, so a variant's instances land on different nodes when
  the cluster has them (SageMaker spreads them across availability zones).
- Nothing here blocks the control pass: ``start`` returns before the actor is placed (``locate`` reads the
  address once it is there), and exits and usage are futures read with a zero timeout.
- Detached actors outlive the server: after a restart ``adopt`` finds each by name and checks its token.
- A killed actor or a lost node resolves the actor's exit future with an error: ``exited`` reports it and
  the reconciler replaces the instance (wherever Ray finds room)."""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from typing import Any, cast

import ray
from ray.actor import ActorHandle
from ray.exceptions import RayError

from greenfleet.instances.backend import Address, Exit, InstanceHandle, InstanceSpec
from greenfleet.instances.contract import WorkerContract, priority_environment, timeout_environment
from greenfleet.instances.instance_types import capacity
from greenfleet.instances.ray_actor import InstanceSupervisor
from greenfleet.metrics.procfs import Usage

log = logging.getLogger("greenfleet.instances.ray")
ACTOR_PREFIX = "greenfleet-instance-"
ADOPT_TIMEOUT_S = 10.0
_Supervisor = ray.remote(InstanceSupervisor)
Actor = ActorHandle[InstanceSupervisor]


def connect(address: str, namespace: str) -> bool:
    """Join the cluster at ``address`` ("local" starts a one-machine cluster inside this process, on
    loopback); True if this call connected (and the backend should disconnect on close)."""
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"namespace": namespace, "include_dashboard": False, "log_to_driver": False,
                               "configure_logging": False}
    if address == "local":
        options["_node_ip_address"] = "127.0.0.1"
    ray.init(address=address, **options)
    return True


class RayBackend:
    def __init__(self, contract: WorkerContract, address: str, namespace: str = "greenfleet",
                 python: str | None = None, stop_grace_s: float = 10.0) -> None:
        self.contract, self.namespace, self.python, self.stop_grace_s = contract, namespace, python, stop_grace_s
        self._owns_connection = connect(address, namespace)
        self._actors: dict[str, Actor] = {}
        self._located: dict[str, ray.ObjectRef[dict[str, Any]]] = {}
        self._exits: dict[str, ray.ObjectRef[dict[str, Any]]] = {}
        self._usage: dict[str, ray.ObjectRef[tuple[float, float] | None]] = {}
        self._lock = threading.Lock()

    def actor_name(self, instance_id: str) -> str:
        return ACTOR_PREFIX + instance_id

    # --- InstanceBackend -----------------------------------------------------------------------------
    def start(self, spec: InstanceSpec, now: float) -> InstanceHandle:
        token = secrets.token_hex(8)
        need = capacity(spec.instance_type)
        user = self.contract.isolation.user
        options: dict[str, Any] = {"name": self.actor_name(spec.instance_id), "namespace": self.namespace,
                                   "lifetime": "detached", "max_restarts": 0, "num_cpus": need.vcpus,
                                   "scheduling_strategy": "SPREAD", "max_concurrency": 8}
        if need.memory_bytes:
            options["memory"] = need.memory_bytes
        if need.gpus:
            options["num_gpus"] = need.gpus
        environment = self.contract.environment(spec.container, token)
        environment.update(timeout_environment(spec.invocation_timeout_s))
        if spec.memory_mb:  # a serverless variant's MemorySizeInMB: the worker sets it as its RLIMIT_AS
            environment["GREENFLEET_MEMORY_LIMIT_MB"] = str(spec.memory_mb)
        # A shadow's: the worker lowers its own priority before anything else (after the actor's child set
        # the ordinary priority back, ray_actor._prepare_child), as on the local backend.
        environment.update(priority_environment(spec.niceness, spec.scheduling))
        actor = cast(Actor, _Supervisor.options(**options).remote(
            spec.instance_id, environment, token, self.python,
            (user.uid, user.gid) if user else None))
        self._watch(spec.instance_id, actor)
        return InstanceHandle(spec.instance_id, None, now,
                              {"actor": self.actor_name(spec.instance_id), "namespace": self.namespace,
                               "token": token})

    def _watch(self, instance_id: str, actor: Actor) -> None:
        with self._lock:
            self._actors[instance_id] = actor
            self._located[instance_id] = actor.identity.remote()
            self._exits[instance_id] = actor.wait_exit.remote()

    def locate(self, handle: InstanceHandle) -> Address | None:
        future = self._located.get(handle.instance_id)
        if future is None or not _ready(future):
            return None
        try:
            identity = ray.get(future)
        except RayError:
            return None  # the actor died before it started the worker: ``exited`` says so
        return Address(str(identity["host"]), int(identity["port"]))

    def exited(self, handle: InstanceHandle) -> Exit | None:
        future = self._exits.get(handle.instance_id)
        if future is None:
            return Exit(None, "the instance's Ray actor is unknown to this server")
        if not _ready(future):
            return None
        try:
            result = ray.get(future)
        except RayError as exc:
            return Exit(None, f"the instance's Ray actor was lost ({type(exc).__name__}): {_first_line(exc)}")
        code = result.get("code")
        return Exit(int(code) if code is not None else None, str(result.get("reason") or "") or None)

    def sample(self, handle: InstanceHandle, now: float) -> Usage | None:
        actor = self._actors.get(handle.instance_id)
        if actor is None:
            return None
        future = self._usage.get(handle.instance_id)
        if future is not None and not _ready(future):
            return None  # the previous question is still on its way
        self._usage[handle.instance_id] = actor.usage.remote()
        if future is None:
            return None
        try:
            figures = ray.get(future)
        except RayError:
            return None
        return None if figures is None else Usage(*figures)

    def stop(self, handle: InstanceHandle) -> None:
        with self._lock:
            actor = self._actors.pop(handle.instance_id, None)
            self._located.pop(handle.instance_id, None)
            self._exits.pop(handle.instance_id, None)
            self._usage.pop(handle.instance_id, None)
        if actor is None:
            actor = self._find(handle)
        if actor is not None:
            threading.Thread(target=self._stop_actor, args=(actor,), daemon=True).start()

    def _stop_actor(self, actor: Actor) -> None:
        """Graceful stop on the node, then the actor itself goes (a detached actor lives until killed)."""
        with contextlib.suppress(RayError):
            ray.wait([actor.stop.remote(self.stop_grace_s)], timeout=self.stop_grace_s + 5)
        with contextlib.suppress(RayError, ValueError):
            ray.kill(actor, no_restart=True)

    def _find(self, handle: InstanceHandle) -> Actor | None:
        try:
            return ray.get_actor(str(handle.ref.get("actor") or self.actor_name(handle.instance_id)),
                                 namespace=str(handle.ref.get("namespace") or self.namespace))
        except ValueError:
            return None

    def adopt(self, handle: InstanceHandle) -> bool:
        actor = self._find(handle)
        if actor is None:
            return False
        try:
            identity = cast(dict[str, Any], ray.get(actor.identity.remote(), timeout=ADOPT_TIMEOUT_S))
        except (RayError, TimeoutError):
            return False
        if identity.get("token") != handle.ref.get("token"):
            return False
        self._watch(handle.instance_id, actor)
        return True

    def close(self, stop_instances: bool) -> None:
        if stop_instances:
            with self._lock:
                actors = list(self._actors.values())
                self._actors.clear()
            stops: list[ray.ObjectRef[None]] = []
            for actor in actors:
                with contextlib.suppress(RayError):
                    stops.append(actor.stop.remote(self.stop_grace_s))
            with contextlib.suppress(RayError):
                if stops:
                    ray.wait(stops, num_returns=len(stops), timeout=self.stop_grace_s + 5)
            for actor in actors:
                with contextlib.suppress(RayError, ValueError):
                    ray.kill(actor, no_restart=True)
        if self._owns_connection:
            ray.shutdown()


def _ready(future: ray.ObjectRef[Any]) -> bool:
    done, _ = ray.wait([future], timeout=0)
    return bool(done)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
