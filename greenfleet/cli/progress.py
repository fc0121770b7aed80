"""Live progress of ``greenfleet endpoint update --wait``.

Each poll of DescribeEndpoint is followed by one of the deployment (``describe_deployment``: phase, View,
Timeline) and of the AutoRollback alarms' states (on a connection of their own, kept open). Polls are
gentle: every ``POLL_S`` while traffic moves, every ``BAKE_POLL_S`` while a bake has longer than that to
go (an alarm that fires during a bake is seen within that time; the rollback itself is the server's).
Together they make a ``Snapshot``: the traffic split (the CurrentWeight of ProductionVariants and of
PendingDeploymentSummary, as the deployment's View shows them), phase, current step (the newest
timeline entry), bake countdown, time left before MaximumExecutionTimeoutInSeconds, and alarm states.
A terminal gets a rich Live panel; anything else gets one line per change (and one every
``HEARTBEAT_S`` during a long bake).

Alarm states come from ``GET /api/alarms?name=...``; when that answers with an error (for instance a
server without the alarms service) the alarms are shown by name, with a note, and not asked again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import click
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from greenfleet.cli.output import Doc, fields
from greenfleet.client import Client, ClientError, ServerUnreachable, WaiterError
from greenfleet.waiters import DEPLOYMENT_ENDED

HEARTBEAT_S = 10.0
POLL_S = 0.5
BAKE_POLL_S = 3.0
DEFAULT_TIMEOUT_S = 28800
"""SageMaker's MaximumExecutionTimeoutInSeconds when the DeploymentConfig sets none."""
ROLLBACK_SLACK_S = 900.0
"""How much longer than the deployment's own timeout the CLI waits (a rollback takes time too)."""
BAR_WIDTH = 30


@dataclass(frozen=True)
class Snapshot:
    """One refresh of the progress display."""

    deployment_id: str
    status: str
    phase: str
    strategy: str
    from_config: str
    to_config: str
    traffic: tuple[int, int]
    """Percent of traffic on (from_config, to_config)."""
    step: str
    bake: tuple[float, float] | None
    """(seconds left, bake length) while a bake runs."""
    elapsed_s: float
    deadline_in_s: float | None
    alarms: tuple[tuple[str, str | None], ...]
    """(alarm name, StateValue or None when unknown)."""
    alarm_note: str | None = None


def _config(deployment: Doc) -> Doc:
    return (deployment.get("View") or {}).get("LastDeploymentConfig") or {}


def alarm_names(deployment: Doc) -> list[str]:
    alarms = (_config(deployment).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    return [a["AlarmName"] for a in alarms]


def _share(variants: list[Doc]) -> int | None:
    desired = sum(float(v.get("DesiredWeight") or 0) for v in variants)
    if desired <= 0:
        return None
    return round(100 * sum(float(v.get("CurrentWeight") or 0) for v in variants) / desired)


def traffic_split(described: Doc, deployment: Doc) -> tuple[int, int]:
    """(old config %, new config %) from the CurrentWeight of DescribeEndpoint's ProductionVariants and
    PendingDeploymentSummary (``described``: a DescribeEndpoint answer, or the deployment's View)."""
    pending = described.get("PendingDeploymentSummary")
    if pending is None:  # not started yet, or ended: everything is on the endpoint's config
        return (0, 100) if described.get("EndpointConfigName") == deployment.get("ToConfig") else (100, 0)
    green = _share(pending.get("ProductionVariants") or [])
    if green is not None:
        return 100 - green, green
    blue = _share(described.get("ProductionVariants") or [])
    return (blue, 100 - blue) if blue is not None else (100, 0)


def bake(deployment: Doc, now: float) -> tuple[float, float] | None:
    """(seconds left, length) of the running bake: WaitIntervalInSeconds, or TerminationWaitInSeconds."""
    pending = (deployment.get("View") or {}).get("PendingDeploymentSummary") or {}
    started = next((s.get("StartTime") for v in pending.get("ProductionVariants") or []
                    for s in v.get("VariantStatus") or [] if s.get("Status") == "Baking"), None)
    if started is None:
        return None
    config = _config(deployment)
    blue_green = config.get("BlueGreenUpdatePolicy") or {}
    if deployment.get("Phase") == "TERMINATION_WAIT":
        length = blue_green.get("TerminationWaitInSeconds") or 0
    else:
        policy = config.get("RollingUpdatePolicy") or blue_green.get("TrafficRoutingConfiguration") or {}
        length = policy.get("WaitIntervalInSeconds") or 0
    return max(0.0, float(started) + float(length) - now), float(length)


def max_timeout_s(deployment: Doc) -> int | None:
    config = _config(deployment)
    policy = config.get("RollingUpdatePolicy") or config.get("BlueGreenUpdatePolicy") or {}
    timeout = policy.get("MaximumExecutionTimeoutInSeconds")
    return int(timeout) if timeout is not None else None


def snapshot(endpoint: Doc, deployment: Doc, states: dict[str, str] | None, now: float,
             alarm_note: str | None = None) -> Snapshot:
    """What to show. The deployment's View is DescribeEndpoint's deployment part read in the same request
    as its phase and timeline, so it is preferred to ``endpoint`` (polled a moment earlier)."""
    described = deployment.get("View") or endpoint
    timeline = deployment.get("Timeline") or []
    start = float(deployment.get("StartTime") or now)
    timeout = max_timeout_s(deployment)
    return Snapshot(
        deployment_id=deployment.get("DeploymentId", "-"), status=described.get("EndpointStatus", "-"),
        phase=deployment.get("Outcome") or deployment.get("Phase", "-"), strategy=deployment.get("Strategy", "-"),
        from_config=deployment.get("FromConfig", "-"), to_config=deployment.get("ToConfig", "-"),
        traffic=traffic_split(described, deployment), step=timeline[-1]["Message"] if timeline else "starting",
        bake=bake(deployment, now), elapsed_s=max(0.0, now - start),
        deadline_in_s=max(0.0, start + timeout - now) if timeout is not None and not deployment.get("Outcome")
        else None,
        alarms=tuple((name, states.get(name, "not found") if states is not None else None)
                     for name in alarm_names(deployment)),
        alarm_note=alarm_note)


# --- rendering ---------------------------------------------------------------------------------------


def _alarm_text(snap: Snapshot) -> str:
    if not snap.alarms:
        return "none"
    text = ", ".join(f"{name} {state}" if state else name for name, state in snap.alarms)
    return f"{text} ({snap.alarm_note})" if snap.alarm_note else text


def _bake_text(snap: Snapshot) -> str | None:
    return f"{snap.bake[0]:.0f} s left of {snap.bake[1]:g} s" if snap.bake else None


def line(snap: Snapshot) -> str:
    """One line for a pipe or a log."""
    old, new = snap.traffic
    parts = [f"[{snap.elapsed_s:6.1f}s] {snap.status} {snap.phase}",
             f"traffic {snap.from_config} {old}% → {snap.to_config} {new}%", snap.step]
    bake_text = _bake_text(snap)
    if bake_text:
        parts.append(f"bake {bake_text}")
    if snap.alarms:
        parts.append(f"alarms: {_alarm_text(snap)}")
    return " | ".join(parts)


def _bar(snap: Snapshot) -> Text:
    old, new = snap.traffic
    filled = round(BAR_WIDTH * new / 100)
    bar = Text(f"{snap.from_config} {old}% ")
    bar.append("█" * (BAR_WIDTH - filled), style="blue")
    bar.append("█" * filled, style="green")
    bar.append(f" {new}% {snap.to_config}")
    return bar


def panel(snap: Snapshot) -> RenderableType:
    """The Live display for a terminal."""
    header = Text(f"Deployment {snap.deployment_id}: {snap.strategy} {snap.from_config} → {snap.to_config}",
                  style="bold")
    deadline = f"{snap.deadline_in_s:.0f} s" if snap.deadline_in_s is not None else None
    return Group(header, _bar(snap), fields([
        ("Endpoint", snap.status), ("Phase", snap.phase), ("Step", snap.step), ("Bake", _bake_text(snap)),
        ("Alarms", _alarm_text(snap) if snap.alarms else None), ("Elapsed", f"{snap.elapsed_s:.1f} s"),
        ("Times out in", deadline),
    ]))


# --- the watcher -------------------------------------------------------------------------------------


class AlarmStates:
    """StateValue of each named alarm, from the alarms API; after its first error, None (names only)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.note: str | None = None
        self._client: Client | None = None

    def __call__(self, names: list[str]) -> dict[str, str] | None:
        if not names or self.note is not None:
            return None
        # Its own connection (opened once): an error answer must not break the connection the wait polls on.
        if self._client is None:
            self._client = Client(self.url, timeout=5.0)
        try:
            answer = self._client.describe_alarms(AlarmNames=names)
        except ClientError as exc:
            self.note = f"states unavailable: GET /api/alarms failed ({exc})"
            return None
        return {a["AlarmName"]: str(a.get("StateValue")) for a in answer.get("MetricAlarms", [])}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class Watcher:
    """``on_progress`` of ``wait_for_deployment``: fetches the deployment and alarm states, redraws."""

    def __init__(self, client: Client, endpoint_name: str, deployment_id: str, out: Console) -> None:
        self.client, self.endpoint_name, self.deployment_id, self.out = client, endpoint_name, deployment_id, out
        self.alarms = AlarmStates(client.base_url)
        # Redrawn after each poll only (no refresh thread).
        self.live = Live(console=out, auto_refresh=False, transient=False) if out.is_terminal else None
        self._last_key: tuple[Any, ...] | None = None
        self._last_at = 0.0
        self.last: Snapshot | None = None

    def __enter__(self) -> Watcher:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.live is not None:
            self.live.stop()
        self.alarms.close()

    def next_poll_s(self) -> float:
        """``BAKE_POLL_S`` while a bake has longer than that to go, else ``POLL_S``."""
        bake_left = self.last.bake[0] if self.last is not None and self.last.bake is not None else 0.0
        return BAKE_POLL_S if bake_left > BAKE_POLL_S else POLL_S

    def __call__(self, endpoint: Doc) -> None:
        try:
            deployment = self.client.describe_deployment(EndpointName=self.endpoint_name,
                                                          DeploymentId=self.deployment_id)
        except ServerUnreachable:
            return  # a server restart: the wait retries, and the next poll redraws
        states = self.alarms(alarm_names(deployment))
        self.show(snapshot(endpoint, deployment, states, time.time(), self.alarms.note))

    def show(self, snap: Snapshot) -> None:
        self.last = snap
        if self.live is not None:
            self.live.update(panel(snap), refresh=True)
            return
        key = (snap.status, snap.phase, snap.traffic, snap.step, snap.alarms, snap.alarm_note)
        now = time.monotonic()
        if key != self._last_key or now - self._last_at >= HEARTBEAT_S:
            self.out.print(line(snap), markup=False, highlight=False, soft_wrap=True)
            self._last_key, self._last_at = key, now


def follow(client: Client, endpoint_name: str, watcher: Watcher, timeout_s: float) -> Doc:
    """Poll DescribeEndpoint (each answer to ``watcher``) at ``watcher.next_poll_s()`` until the deployment
    has ended (InService, on either config, or UpdateRollbackFailed); a server briefly unreachable (a
    restart resumes the deployment) is retried. WaiterError if the endpoint fails or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            described = client.describe_endpoint(EndpointName=endpoint_name)
        except ServerUnreachable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(POLL_S)
            continue
        watcher(described)
        status = described["EndpointStatus"]
        if status in DEPLOYMENT_ENDED:
            return described
        if status == "Failed":
            raise WaiterError(f"endpoint {endpoint_name} failed: "
                              f"{described.get('FailureReason', 'no reason given')}", described)
        if time.monotonic() >= deadline:
            raise WaiterError(f"the deployment of endpoint {endpoint_name} has not ended after {timeout_s:g} s "
                              f"(the endpoint is {status})", described)
        time.sleep(watcher.next_poll_s())


def watch(client: Client, endpoint_name: str, out: Console) -> Doc:
    """Follow the endpoint's newest deployment until it ends; return that deployment (describe_deployment).
    Ctrl-C stops watching (exit 130); the deployment goes on."""
    deployment = client.describe_deployment(EndpointName=endpoint_name)
    deployment_id = deployment["DeploymentId"]
    limit = (max_timeout_s(deployment) or DEFAULT_TIMEOUT_S) + ROLLBACK_SLACK_S
    try:
        with Watcher(client, endpoint_name, deployment_id, out) as watcher:
            follow(client, endpoint_name, watcher, limit)
    except KeyboardInterrupt:
        click.echo(f"\nStopped watching; deployment {deployment_id} goes on: "
                   f"greenfleet deployment describe {endpoint_name} --id {deployment_id}", err=True)
        raise click.exceptions.Exit(130) from None
    return client.describe_deployment(EndpointName=endpoint_name, DeploymentId=deployment_id)
