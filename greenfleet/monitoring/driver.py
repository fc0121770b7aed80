"""The monitoring scheduler's driver, the control pass's ``monitoring`` step (run once a second through
``EverySecond``; greenfleet/server.py lists it): it loads the schedules, steps
each (``scheduler.step``), saves their progress and the executions they start (Pending), then runs
those executions on one background thread. Executions found Pending or InProgress and not running
(after a restart) are run again; an execution's id makes starting it twice harmless."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from greenfleet.capture.config import capture_setting
from greenfleet.clock import Clock
from greenfleet.control.snapshot import Snapshot
from greenfleet.monitoring.execution import run_execution
from greenfleet.monitoring.jobs import resolve_job
from greenfleet.monitoring.metrics import metric_requests
from greenfleet.monitoring.quality_execution import GroundTruth, quality_metric_requests, run_quality_execution
from greenfleet.monitoring.repository import MonitoringRepository
from greenfleet.monitoring.schedule import parse_rule
from greenfleet.monitoring.scheduler import RunExecution, ScheduleState, step
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.monitoring")
PENDING, IN_PROGRESS = "Pending", "InProgress"
Doc = dict[str, Any]


class MetricSink(Protocol):
    def put_metric_data(self, body: dict[str, Any], now: float | None = None) -> None: ...


def capture_destination(repo: Repository, endpoint: str) -> str | None:
    """Where the endpoint's current fleet captures to, or None when it captures nothing."""
    row = repo.get_endpoint(endpoint)
    capture = row["state"].current.data_capture if row else None
    setting = capture_setting(capture.config()) if capture is not None else None
    return setting.destination if setting else None


def _state(row: Doc) -> ScheduleState:
    schedule = row["config"]["ScheduleConfig"]
    rule = parse_rule(schedule["ScheduleExpression"], schedule.get("DataAnalysisStartTime"),
                      schedule.get("DataAnalysisEndTime"), min_interval_s=0.0)  # validated when stored
    return ScheduleState(row["name"], row["status"], rule, row["next_run_at"])


class MonitoringDriver:
    name = "monitoring"

    def __init__(self, repo: MonitoringRepository, clock: Clock, metrics: MetricSink,
                 destination: Callable[[str], str | None], s3_endpoint_url: str | None) -> None:
        self.repo, self.clock, self.metrics = repo, clock, metrics
        self.destination, self.s3_endpoint_url = destination, s3_endpoint_url
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="greenfleet-monitor")
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self.ground_truth: GroundTruth | None = None
        """Labels beyond the ground-truth files for model-quality executions (the feedback API's)."""

    def run(self, snapshot: Snapshot) -> None:
        self.tick(snapshot.now)

    def tick(self, now: float) -> None:
        unfinished = self.repo.executions(statuses=(PENDING, IN_PROGRESS))
        busy = {e["schedule_name"] for e in unfinished}
        for row in self.repo.schedules():
            try:
                before = _state(row)
            except Exception as exc:  # a stored expression no longer valid: record it, keep the others going
                self.repo.update_schedule(row["name"], {"status": "Failed", "failure_reason": str(exc)})
                continue
            after, actions = step(before, now, busy=row["name"] in busy)
            if after != before:
                self.repo.update_schedule(row["name"], {"next_run_at": after.next_run_at})  # save, then act
            for action in actions:
                self.repo.insert_execution({
                    "id": action.execution_id, "schedule_name": row["name"], "endpoint_name": row["endpoint_name"],
                    "monitoring_type": row["monitoring_type"], "scheduled_time": action.scheduled_time,
                    "window_start": action.window_start, "window_end": action.window_end, "status": PENDING,
                    "failure_reason": None, "output_uri": None, "created_at": now, "modified_at": now})
        for execution in self.repo.executions(statuses=(PENDING, IN_PROGRESS)):
            with self._lock:
                if execution["id"] in self._running:
                    continue
                self._running.add(execution["id"])
            self._executor.submit(self._run, execution)

    def _run(self, execution: Doc) -> None:
        try:
            self._execute(execution)
        except Exception as exc:
            log.exception("monitoring execution %s failed", execution["id"])
            self.repo.update_execution(execution["id"], {"status": "Failed", "failure_reason": f"internal error: {exc}",
                                                         "modified_at": self.clock.now()})
        finally:
            with self._lock:
                self._running.discard(execution["id"])

    def _execute(self, execution: Doc) -> None:
        self.repo.update_execution(execution["id"], {"status": IN_PROGRESS, "modified_at": self.clock.now()})
        schedule = self.repo.schedule(execution["schedule_name"])
        endpoint = execution["endpoint_name"]
        destination = self.destination(endpoint) if endpoint else None
        if schedule is None or destination is None:
            reason = "the monitoring schedule was deleted" if schedule is None else \
                f"endpoint {endpoint} has no enabled data capture"
            self.repo.update_execution(execution["id"], {"status": "Failed", "failure_reason": reason,
                                                         "modified_at": self.clock.now()})
            return
        job = resolve_job(self.repo, schedule["config"])
        run = RunExecution(schedule["name"], execution["scheduled_time"], execution["window_start"],
                           execution["window_end"])
        if schedule["monitoring_type"] == "ModelQuality":
            outcome = run_quality_execution(job, endpoint, destination, run, self.s3_endpoint_url, self.ground_truth)
        else:
            outcome = run_execution(job, endpoint, destination, run, self.s3_endpoint_url)
        now = self.clock.now()
        self.repo.update_execution(execution["id"], {"status": outcome.status, "failure_reason": outcome.failure_reason,
                                                     "output_uri": outcome.output_uri, "modified_at": now})
        bodies: list[Doc] = []
        if outcome.evaluation is not None and outcome.evaluation.emit_metrics and _emits(job):
            bodies = metric_requests(outcome.evaluation, endpoint, schedule["name"], now)
        if outcome.quality is not None and _emits(job):
            bodies = quality_metric_requests(outcome.quality, endpoint, schedule["name"], now)
        for body in bodies:
            self.metrics.put_metric_data(body, now)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def _emits(job: Doc) -> bool:
    environment = job.get("Environment") or {}
    return str(environment.get("publish_cloudwatch_metrics", "Enabled")) != "Disabled"
