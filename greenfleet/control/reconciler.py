"""The endpoint reconciler: the instance layer of the control pass and the loop that runs the pass.

Each pass (control_pass.py has the order): the **instance step** health-checks, starts, drains and
stops instances to match each endpoint's desired groups (within the instance ceilings), then publishes
an immutable :class:`Snapshot`; the **routing step** publishes the routing table, records what it
observed (status transitions in the endpoint row, counts, weights and VariantStatus in the observation
row) and stops drained instances; the steps after it (metrics, alarms, deployments, ...) read the
snapshot. Health pings run concurrently and a pass waits for them only briefly, so an instance whose
/ping hangs never slows the pass (nor the one-second alarm evaluation). The loop never dies: each step
is guarded, and a failed pass is retried on the next tick."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from types import MappingProxyType
from typing import Any

import httpx

from greenfleet.asyncinference.service import TIMEOUT_RANGE
from greenfleet.clock import Clock
from greenfleet.control.control_pass import ControlPass, FunctionStep, StepRecord
from greenfleet.control.health import ping
from greenfleet.control.instance_groups import (
    Ceilings,
    Group,
    GroupHealth,
    GroupKey,
    Managed,
    adopted,
    allowed_counts,
    desired_groups,
)
from greenfleet.control.router_presence import RouterReport, remote_busy
from greenfleet.control.routing import build_routes, next_table
from greenfleet.control.snapshot import GroupView, InstanceView, Snapshot
from greenfleet.control.status import observe_endpoint
from greenfleet.errors import ConflictError
from greenfleet.instances.backend import Address, InstanceBackend, InstanceSpec
from greenfleet.resources.endpoint_state import ObservedState
from greenfleet.router.proxy import Router
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.reconciler")
UNHEALTHY_AFTER = 3
STARTING_POLL_S = 0.05
PING_BUDGET_S = 0.25
"""How long a pass waits for outstanding health pings; slower answers are taken on a later pass."""
Pinger = Callable[[Address], Awaitable[bool]]


class Hooks:
    """What other parts learn from the instance layer as it happens; override the ones you need."""

    def instance_ready(self, spec: InstanceSpec, setup_time_s: float, now: float) -> None:
        """An instance passed its first health check after ``setup_time_s`` (ModelSetupTime); never called
        again for an instance adopted after a restart."""

    def endpoint_changed(self, before: dict[str, Any], after: dict[str, Any], now: float) -> None:
        """The reconciler changed an endpoint's status (``after["status"]`` may be "Deleted")."""


class Reconciler:
    def __init__(self, repo: Repository, backend: InstanceBackend, router: Router, clock: Clock, *,
                 interval_s: float, startup_timeout_s: float, restart_backoff_s: float,
                 drain_timeout_s: float, backoff_reset_s: float = 60.0, health_check_interval_s: float = 0.0,
                 ceilings: Ceilings | None = None,
                 hooks: list[Hooks] | None = None, pinger: Pinger | None = None) -> None:
        self.repo, self.backend, self.router, self.clock = repo, backend, router, clock
        self.interval_s = interval_s
        self.startup_timeout_s = startup_timeout_s
        self.restart_backoff_s = restart_backoff_s
        self.drain_timeout_s = drain_timeout_s
        self.backoff_reset_s = backoff_reset_s
        self.health_check_interval_s = health_check_interval_s
        """A ready instance is pinged at most this often (a starting one on every pass)."""
        self.shadow_niceness = 0
        """The CPU niceness of shadow variants' instances (the server sets ``Settings.shadow_niceness``)."""
        self.shadow_scheduling = "normal"
        """The scheduling policy of shadow variants' instances (the server sets ``Settings.shadow_scheduling``)."""
        self.ceilings = ceilings
        self.hooks = hooks if hooks is not None else []
        self.routing_step = FunctionStep("routing", self._route)
        self.control = ControlPass([self.routing_step])
        """The steps after the instance step, in order (the server lists them)."""
        self.instances: dict[str, Managed] = {}
        self.health: dict[GroupKey, GroupHealth] = {}
        self.snapshot: Snapshot | None = None
        """The last snapshot published."""
        self._allowed: dict[GroupKey, int] = {}
        self._pinger = pinger
        self._pings: dict[str, asyncio.Task[bool]] = {}
        self._stop = threading.Event()
        self._wakeup: asyncio.Event | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.passes = 0
        self._first_pass = threading.Event()
        self.drain_grace_s = 0.0
        """A drained instance is stopped no sooner than this after its drain began."""
        self.remote_routers: Callable[[], Sequence[RouterReport]] | None = None
        """The other routers' reports (router_presence.py): a drained instance is stopped only when every
        live one serves a table without it and has no request left on it."""

    @property
    def order(self) -> list[str]:
        """The pass's steps by name, in order."""
        return ["instances", *self.control.order]

    # --- lifecycle ----------------------------------------------------------------------------------
    def start(self, first_pass_timeout_s: float = 10.0) -> None:
        """Adopt surviving instances, then start the loop and wait (at most ``first_pass_timeout_s``) for
        its first pass: by then adopted instances are health-checked and the routing table is published,
        so a server that starts listening after this never answers "not found" for an endpoint the store
        says is InService."""
        self.adopt()
        self.mark_recovering()
        self._thread = threading.Thread(target=self._run, name="greenfleet-reconciler", daemon=True)
        self._thread.start()
        if not self._first_pass.wait(first_pass_timeout_s):
            log.warning("the reconciler's first pass took over %g s; serving meanwhile", first_pass_timeout_s)

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._loop())

    def wake(self) -> None:
        """Run a pass now (called by services after they record new desired state); thread-safe."""
        loop, event = self._event_loop, self._wakeup
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(event.set)

    async def _loop(self) -> None:
        self._event_loop, self._wakeup = asyncio.get_running_loop(), asyncio.Event()
        async with httpx.AsyncClient(timeout=2.0) as client:
            if self._pinger is None:
                self._pinger = lambda address: ping(client, address)
            while not self._stop.is_set():
                try:
                    await self.reconcile_once()
                except Exception:  # the loop must never die
                    log.exception("reconcile pass failed; retrying next tick")
                self._first_pass.set()
                # While instances start, look again soon: readiness is seen at the next pass.
                starting = any(m.phase == "starting" for m in self.instances.values())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), STARTING_POLL_S if starting else self.interval_s)
                self._wakeup.clear()
            for task in self._pings.values():
                task.cancel()

    def adopt(self) -> None:
        """Take back the instances a previous server process left running, with the exact spec they were
        started with (endpoint, fleet, config, variant, container) as the store recorded it."""
        now = self.clock.now()
        for record in self.repo.list_instances():
            managed = adopted(record, self.startup_timeout_s, now)
            if self.backend.adopt(managed.handle):
                self.instances[managed.instance_id] = managed
            else:
                self.repo.delete_instance(record["id"])

    def mark_recovering(self) -> None:
        """After a restart, an endpoint whose instances did not survive is SystemUpdating (SageMaker's
        status for maintenance it did not ask for) until its fleet is back, then InService again."""
        rows = self.repo.list_endpoints()
        allowed = allowed_counts([g for row in rows for g in desired_groups(row)], self.ceilings)
        present: dict[GroupKey, int] = {}
        for managed in self.instances.values():
            present[managed.key] = present.get(managed.key, 0) + 1
        for row in rows:
            if row["status"] != "InService":
                continue
            if any(present.get(g.key, 0) < allowed[g.key] for g in desired_groups(row)):
                with contextlib.suppress(ConflictError):
                    self.repo.update_endpoint(row["name"], row["revision"],
                                              {"status": "SystemUpdating", "modified_at": self.clock.now()})

    # --- one pass ----------------------------------------------------------------------------------
    async def reconcile_once(self) -> None:
        now = self.clock.now()
        rows = self.repo.list_endpoints()
        record = self.control.records.setdefault("instances", StepRecord())
        record.runs, record.last_started = record.runs + 1, now
        try:
            await self._instance_step(rows, now)
        except Exception as exc:
            record.failures, record.last_error = record.failures + 1, f"{type(exc).__name__}: {exc}"
            log.exception("step instances failed; retrying next pass")
        self.snapshot = self._publish_snapshot(rows, now)
        self.control.run(self.snapshot)
        self.passes += 1

    async def _instance_step(self, rows: list[dict[str, Any]], now: float) -> None:
        await self._check_health(now)
        groups = [g for row in rows for g in desired_groups(row)]
        self._allowed = allowed_counts(groups, self.ceilings)
        for group in groups:
            self._converge_group(group, self._allowed[group.key], now)
        wanted = set(self._allowed)
        for managed in list(self.instances.values()):
            if managed.key not in wanted and managed.phase in ("starting", "ready"):
                self._drain(managed, now)

    def _publish_snapshot(self, rows: list[dict[str, Any]], now: float) -> Snapshot:
        outstanding = self.router.outstanding
        instances = tuple(
            InstanceView(m.instance_id, m.key, m.spec.config_name, m.phase, m.handle, m.ready_at,
                         outstanding.of(m.instance_id))
            for m in self.instances.values())
        groups = {}
        for key in set(self.health) | set(self._allowed):
            h = self.health.get(key) or GroupHealth()
            groups[key] = GroupView(h.failure, h.failure_at, h.restarts, h.startup_failures, h.startup_failure_at,
                                    h.next_start_at, self._allowed.get(key))
        return Snapshot(now, self.passes, instances, MappingProxyType(groups), tuple(rows))

    def _route(self, snapshot: Snapshot) -> None:
        """The routing step: observe each endpoint (status, figures), publish the table, finish drains."""
        now = snapshot.now
        observations = self.repo.list_observations()
        observed = [self._observe(row, observations.get(row["name"]) or ObservedState(), now)
                    for row in snapshot.endpoints]
        table = next_table(self.router.table, build_routes([r for r in observed if r is not None],
                                                           snapshot.instances))
        if table is not None:
            self.router.publish(table)
        self._finish_drains(now)

    async def _check_health(self, now: float) -> None:
        live = [m for m in self.instances.values() if m.phase in ("starting", "ready")]
        for managed in live:
            exit_ = self.backend.exited(managed.handle)
            if exit_ is not None:
                reason = exit_.reason or "the instance process exited"
                self._lose(managed, f"instance {managed.instance_id} stopped: {reason}", now)
        live = [m for m in live if m.instance_id in self.instances]
        for managed in live:
            if managed.handle.address is None:
                self._locate(managed)
        await self._ping(live, now)
        for managed in live:
            task = self._pings.get(managed.instance_id)
            if task is None or not task.done():
                if managed.phase == "starting" and now > managed.startup_deadline:
                    self._lose(managed, self._startup_failure(managed), now)
                continue
            del self._pings[managed.instance_id]
            healthy = not task.cancelled() and task.exception() is None and task.result()
            if managed.phase == "starting":
                if healthy:
                    self._mark_ready(managed, now)
                elif now > managed.startup_deadline:
                    self._lose(managed, self._startup_failure(managed), now)
            elif healthy:
                managed.ping_failures = 0
                self._maybe_reset_backoff(managed, now)
            else:
                managed.ping_failures += 1
                if managed.ping_failures >= UNHEALTHY_AFTER:
                    self._lose(managed, f"instance {managed.instance_id} failed {UNHEALTHY_AFTER} health checks",
                               now)

    async def _ping(self, live: list[Managed], now: float) -> None:
        """Start a ping for each instance that is due and has none in flight; wait briefly for the
        outstanding ones."""
        if self._pinger is None:
            return
        for managed in live:
            address = managed.handle.address
            due = managed.phase == "starting" or now - managed.pinged_at >= self.health_check_interval_s
            if address is not None and due and managed.instance_id not in self._pings:
                managed.pinged_at = now
                self._pings[managed.instance_id] = asyncio.ensure_future(self._pinger(address))
        waiting = [t for t in self._pings.values() if not t.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=PING_BUDGET_S)

    def _locate(self, managed: Managed) -> None:
        address = self.backend.locate(managed.handle)
        if address is not None:
            managed.handle = managed.handle.located(address)
            self.repo.set_instance_address(managed.instance_id, address.host, address.port)

    @staticmethod
    def _startup_failure(managed: Managed) -> str:
        return (f"the container of variant {managed.spec.variant_name} did not pass the /ping health check "
                f"within {managed.startup_timeout_s:g} seconds")

    def _mark_ready(self, managed: Managed, now: float) -> None:
        managed.phase = "ready"
        self._group_health(managed.key).failure = None
        if managed.setup_recorded:  # adopted: its ModelSetupTime was recorded by the server that started it
            return
        managed.ready_at, managed.setup_recorded = now, True
        self.repo.mark_instance_ready(managed.instance_id, now)
        setup = now - managed.handle.started_at
        for hook in self.hooks:
            try:
                hook.instance_ready(managed.spec, setup, now)
            except Exception:
                log.exception("hook instance_ready failed")

    def _maybe_reset_backoff(self, managed: Managed, now: float) -> None:
        health = self.health.get(managed.key)
        if health is not None and health.restarts and managed.ready_at is not None \
                and now - managed.ready_at >= self.backoff_reset_s:
            health.restarts = 0

    def _lose(self, managed: Managed, reason: str, now: float) -> None:
        """An instance died or failed its checks: forget it (stopping it if needed) and back off."""
        log.warning("%s", reason)
        self._forget_ping(managed.instance_id)
        self.backend.stop(managed.handle)
        self.instances.pop(managed.instance_id, None)
        self.repo.delete_instance(managed.instance_id)
        health = self._group_health(managed.key)
        health.failure, health.failure_at = reason, now
        if managed.phase == "starting":
            health.startup_failures += 1
            health.startup_failure_at = now
        health.restarts += 1
        health.next_start_at = now + min(self.restart_backoff_s * 2 ** min(health.restarts - 1, 5), 30.0)

    def _forget_ping(self, instance_id: str) -> None:
        task = self._pings.pop(instance_id, None)
        if task is not None:
            task.cancel()

    def _group_health(self, key: GroupKey) -> GroupHealth:
        return self.health.setdefault(key, GroupHealth())

    def _converge_group(self, group: Group, allowed: int, now: float) -> None:
        members = [m for m in self.instances.values() if m.key == group.key and m.phase in ("starting", "ready")]
        missing = allowed - len(members)
        if missing > 0 and now >= self._group_health(group.key).next_start_at:
            for _ in range(missing):
                self._start(group, now)
        elif missing < 0:
            surplus = sorted(members, key=lambda m: (m.phase == "ready", m.handle.started_at))
            for managed in surplus[:-missing]:
                self._drain(managed, now)

    def _start(self, group: Group, now: float) -> None:
        variant = group.variant
        spec = InstanceSpec(f"{group.endpoint}-{variant.name}-{uuid.uuid4().hex[:8]}".lower(), group.endpoint,
                            group.fleet.id, group.config_name, variant.name, variant.instance_document(),
                            variant.instance_type, variant.serverless.memory_mb if variant.serverless else None,
                            niceness=self.shadow_niceness if group.shadow else 0,
                            scheduling=self.shadow_scheduling if group.shadow else "normal",
                            invocation_timeout_s=float(TIMEOUT_RANGE[1]) if group.fleet.asynchronous else None)
        handle = self.backend.start(spec, now)
        timeout = float(variant.startup_timeout_s or self.startup_timeout_s)
        self.instances[spec.instance_id] = Managed(spec, handle, timeout, startup_deadline=handle.started_at + timeout)
        address = handle.address
        self.repo.save_instance({
            "id": spec.instance_id, "endpoint_name": spec.endpoint_name, "fleet_id": spec.fleet_id,
            "config_name": spec.config_name, "variant_name": spec.variant_name, "container": spec.container,
            "host": address.host if address else None, "port": address.port if address else None,
            "backend_ref": handle.ref, "started_at": handle.started_at, "ready_at": None,
            "instance_type": spec.instance_type})

    def _drain(self, managed: Managed, now: float) -> None:
        self._forget_ping(managed.instance_id)
        managed.phase = "draining"
        managed.drain_started_at = now
        managed.drain_revision = self.router.table.revision + 1

    def _finish_drains(self, now: float) -> None:
        reports: Sequence[RouterReport] | None = None
        unreadable = False
        for managed in list(self.instances.values()):
            if managed.phase != "draining":
                continue
            unpublished = self.router.table.revision < managed.drain_revision
            busy = self.router.outstanding.of(managed.instance_id) > 0
            if not (unpublished or busy) and self.remote_routers is not None:
                if reports is None and not unreadable:
                    try:
                        reports = self.remote_routers()
                    except Exception as exc:  # the store is unreachable: wait (the drain timeout bounds it)
                        log.warning("cannot read the routers' reports (%s)", type(exc).__name__)
                        unreadable = True
                busy = unreadable or remote_busy(reports or (), managed.instance_id, managed.drain_revision, now)
            timed_out = now - (managed.drain_started_at or now) > self.drain_timeout_s
            young = now - (managed.drain_started_at or now) < self.drain_grace_s
            if (unpublished or busy or young) and not timed_out:
                continue
            self.backend.stop(managed.handle)
            self.instances.pop(managed.instance_id, None)
            self.repo.delete_instance(managed.instance_id)

    def _observe(self, row: dict[str, Any], before: ObservedState, now: float) -> dict[str, Any] | None:
        """Record what was observed; returns the row as it now stands (None once deleted)."""
        members = [m for m in self.instances.values() if m.spec.endpoint_name == row["name"]]
        seen = observe_endpoint(row, before, members, self.health, self._allowed, now)
        if seen.delete:
            self.repo.delete_endpoint(row["name"])
            for key in [k for k in self.health if k.endpoint == row["name"]]:
                del self.health[key]
            self._notify(row, {**row, "status": "Deleted"}, now)
            return None
        if seen.observed is not None:
            self.repo.save_observed_fleets(row["name"], seen.observed, now)
        if seen.changes is None:
            return row
        try:
            after = self.repo.update_endpoint(row["name"], row["revision"], seen.changes)
        except ConflictError:
            return row  # someone else wrote first; the next pass sees their version
        if after["status"] != row["status"]:
            self._notify(row, after, now)
        return after

    def _notify(self, before: dict[str, Any], after: dict[str, Any], now: float) -> None:
        for hook in self.hooks:
            try:
                hook.endpoint_changed(before, after, now)
            except Exception:
                log.exception("hook endpoint_changed failed")
