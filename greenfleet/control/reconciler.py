"""The endpoint reconciler: every pass it compares each endpoint's desired groups with the instances
it runs, starts, health-checks, drains and stops instances, publishes the routing table, and records
what it observed (status, current weights and counts) in the store. It never dies: each step is
guarded, and a failed pass is retried on the next tick."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from greenfleet.clock import Clock
from greenfleet.control.health import ping_all
from greenfleet.control.instance_groups import Group, GroupHealth, Managed, desired_groups
from greenfleet.control.routing import build_routes, next_table
from greenfleet.control.status import observe_endpoint
from greenfleet.errors import ConflictError
from greenfleet.instances.backend import InstanceBackend, InstanceHandle, InstanceSpec
from greenfleet.router.proxy import Router
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.reconciler")
UNHEALTHY_AFTER = 3
STARTING_POLL_S = 0.05


class Hooks:
    """What other controllers learn from the reconciler; override the ones you need."""

    def instance_ready(self, spec: InstanceSpec, setup_time_s: float, now: float) -> None:
        """An instance passed its first health check after ``setup_time_s`` (ModelSetupTime)."""

    def endpoint_changed(self, before: dict[str, Any], after: dict[str, Any], now: float) -> None:
        """The reconciler changed an endpoint's status (``after["status"]`` may be "Deleted")."""

    def tick(self, now: float) -> None:
        """Once per pass, after instances, routing and statuses are up to date."""


class Reconciler:
    def __init__(self, repo: Repository, backend: InstanceBackend, router: Router, clock: Clock, *,
                 interval_s: float, startup_timeout_s: float, restart_backoff_s: float,
                 drain_timeout_s: float, hooks: list[Hooks] | None = None) -> None:
        self.repo, self.backend, self.router, self.clock = repo, backend, router, clock
        self.interval_s = interval_s
        self.startup_timeout_s = startup_timeout_s
        self.restart_backoff_s = restart_backoff_s
        self.drain_timeout_s = drain_timeout_s
        self.hooks = hooks if hooks is not None else []
        self.instances: dict[str, Managed] = {}
        self.health: dict[str, GroupHealth] = {}
        self._stop = threading.Event()
        self._wakeup: asyncio.Event | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self.passes = 0
        self._first_pass = threading.Event()
        self.before_pass: list[Callable[[float], None]] = []

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
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._loop())

    def wake(self) -> None:
        """Run a pass now (called by services after they record new desired state); thread-safe."""
        loop, event = self._event_loop, self._wakeup
        if loop is not None and event is not None:
            loop.call_soon_threadsafe(event.set)

    async def _loop(self) -> None:
        self._event_loop, self._wakeup = asyncio.get_running_loop(), asyncio.Event()
        async with httpx.AsyncClient(timeout=2.0) as client:
            self._client = client
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

    def adopt(self) -> None:
        """Take back the instances a previous server process left running."""
        for record in self.repo.list_instances():
            handle = InstanceHandle(record["id"], "127.0.0.1", record["port"], record["pid"], record["token"],
                                    record["started_at"])
            if not self.backend.adopt(handle):
                self.repo.delete_instance(record["id"])
                continue
            endpoint, _fleet, variant = record["group_key"].split("/")
            row = self.repo.get_endpoint(endpoint)
            spec = InstanceSpec(record["id"], endpoint, row["config_name"] if row else "", variant, {})
            self.instances[record["id"]] = Managed(spec, handle, record["group_key"], self.startup_timeout_s)

    def mark_recovering(self) -> None:
        """After a restart, an endpoint whose instances did not survive is SystemUpdating (SageMaker's
        status for maintenance it did not ask for) until its fleet is back, then InService again."""
        for row in self.repo.list_endpoints():
            if row["status"] != "InService":
                continue
            present: dict[str, int] = {}
            for managed in self.instances.values():
                present[managed.group_key] = present.get(managed.group_key, 0) + 1
            if any(present.get(g.key, 0) < g.count for g in desired_groups(row)):
                with contextlib.suppress(ConflictError):
                    self.repo.update_endpoint(row["name"], row["revision"],
                                              {"status": "SystemUpdating", "modified_at": self.clock.now()})

    # --- one pass ----------------------------------------------------------------------------------
    async def reconcile_once(self) -> None:
        now = self.clock.now()
        for prepare in self.before_pass:
            prepare(now)
        await self._check_health(now)
        rows = self.repo.list_endpoints()
        wanted: set[str] = set()
        for row in rows:
            groups = desired_groups(row)
            for group in groups:
                wanted.add(group.key)
                self._converge_group(group, now)
        for managed in list(self.instances.values()):
            if managed.group_key not in wanted and managed.phase in ("starting", "ready"):
                self._drain(managed, now)
        observed = [self._observe(row, now) for row in rows]
        self._publish([row for row in observed if row is not None])
        self._finish_drains(now)
        for hook in self.hooks:
            try:
                hook.tick(now)
            except Exception:
                log.exception("hook tick failed")
        self.passes += 1

    async def _check_health(self, now: float) -> None:
        live = [m for m in self.instances.values() if m.phase in ("starting", "ready")]
        for managed in live:
            exit_ = self.backend.exited(managed.handle)
            if exit_ is not None:
                reason = exit_.reason or "the instance process exited"
                self._lose(managed, f"instance {managed.instance_id} stopped: {reason}", now)
        live = [m for m in live if m.instance_id in self.instances]
        results = await ping_all(self._client, live) if live and self._client is not None else {}
        for managed in live:
            healthy = results.get(managed.instance_id, False)
            if managed.phase == "starting":
                if healthy:
                    self._mark_ready(managed, now)
                elif now - managed.handle.started_at > managed.startup_timeout_s:
                    self._lose(managed, f"the container of variant {managed.spec.variant_name} did not pass "
                               f"the /ping health check within {managed.startup_timeout_s:g} seconds", now)
            elif healthy:
                managed.ping_failures = 0
            else:
                managed.ping_failures += 1
                if managed.ping_failures >= UNHEALTHY_AFTER:
                    self._lose(managed, f"instance {managed.instance_id} failed {UNHEALTHY_AFTER} health checks",
                               now)

    def _mark_ready(self, managed: Managed, now: float) -> None:
        managed.phase, managed.ready_at = "ready", now
        self.repo.mark_instance_ready(managed.instance_id, now)
        setup = now - managed.handle.started_at
        self._group_health(managed.group_key).failure = None
        for hook in self.hooks:
            try:
                hook.instance_ready(managed.spec, setup, now)
            except Exception:
                log.exception("hook instance_ready failed")

    def _lose(self, managed: Managed, reason: str, now: float) -> None:
        """An instance died or failed its checks: forget it (stopping it if needed) and back off."""
        log.warning("%s", reason)
        self.backend.stop(managed.handle)
        self.instances.pop(managed.instance_id, None)
        self.repo.delete_instance(managed.instance_id)
        health = self._group_health(managed.group_key)
        health.failure, health.failure_at = reason, now
        if managed.phase == "starting":
            health.startup_failures += 1
            health.startup_failure_at = now
        health.restarts += 1
        health.next_start_at = now + min(self.restart_backoff_s * 2 ** min(health.restarts - 1, 5), 30.0)

    def _group_health(self, key: str) -> GroupHealth:
        return self.health.setdefault(key, GroupHealth())

    def _converge_group(self, group: Group, now: float) -> None:
        members = [m for m in self.instances.values()
                   if m.group_key == group.key and m.phase in ("starting", "ready")]
        missing = group.count - len(members)
        if missing > 0 and now >= self._group_health(group.key).next_start_at:
            for _ in range(missing):
                self._start(group, now)
        elif missing < 0:
            surplus = sorted(members, key=lambda m: (m.phase == "ready", m.handle.started_at))
            for managed in surplus[:-missing]:
                self._drain(managed, now)

    def _start(self, group: Group, now: float) -> None:
        variant = group.variant
        spec = InstanceSpec(f"{group.endpoint}-{variant['VariantName']}-{uuid.uuid4().hex[:8]}".lower(),
                            group.endpoint, group.config_name, variant["VariantName"], variant["Container"])
        handle = self.backend.start(spec, now)
        timeout = float(variant.get("StartupTimeoutS") or self.startup_timeout_s)
        self.instances[spec.instance_id] = Managed(spec, handle, group.key, timeout)
        self.repo.save_instance({"id": spec.instance_id, "endpoint_name": group.endpoint,
                                 "group_key": group.key, "pid": handle.pid, "port": handle.port,
                                 "token": handle.token, "started_at": handle.started_at, "ready_at": None})

    def _drain(self, managed: Managed, now: float) -> None:
        managed.phase = "draining"
        managed.drain_started_at = now
        managed.drain_revision = self.router.table.revision + 1

    def _publish(self, rows: list[dict[str, Any]]) -> None:
        table = next_table(self.router.table, build_routes(rows, self.instances.values()))
        if table is not None:
            self.router.publish(table)

    def _finish_drains(self, now: float) -> None:
        for managed in list(self.instances.values()):
            if managed.phase != "draining":
                continue
            unpublished = self.router.table.revision < managed.drain_revision
            busy = self.router.outstanding.of(managed.instance_id) > 0
            timed_out = now - (managed.drain_started_at or now) > self.drain_timeout_s
            if (unpublished or busy) and not timed_out:
                continue
            self.backend.stop(managed.handle)
            self.instances.pop(managed.instance_id, None)
            self.repo.delete_instance(managed.instance_id)

    def _observe(self, row: dict[str, Any], now: float) -> dict[str, Any] | None:
        """Record what was observed; returns the row as it now stands (None once deleted)."""
        members = [m for m in self.instances.values() if m.spec.endpoint_name == row["name"]]
        changes = observe_endpoint(row, members, self.health, now)
        if changes is None:
            return row
        if changes.get("_delete"):
            self.repo.delete_endpoint(row["name"])
            for key in [k for k in self.health if k.startswith(f"{row['name']}/")]:
                del self.health[key]
            self._notify(row, {**row, "status": "Deleted"}, now)
            return None
        try:
            after = self.repo.update_endpoint(row["name"], row["revision"], changes)
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
