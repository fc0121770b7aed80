"""Running a deployment's checks (issue 5): webhooks and the built-in load test, off the tick, each
started once per check id; results are read back by the driver on later ticks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from greenfleet.rollout.actions import RunCheck
from greenfleet.rollout.observations import CheckResult, CheckStatus

log = logging.getLogger("greenfleet.checks")
Addresses = Callable[[str], list[str]]  # fleet id -> base URLs of its ready instances


class CheckRunner:
    def __init__(self, workers: int = 4) -> None:
        self.results: dict[str, CheckResult] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="greenfleet-check")

    def start(self, action: RunCheck, instances: list[str]) -> None:
        with self._lock:
            if action.check_id in self.results:
                return
            self.results[action.check_id] = CheckResult(CheckStatus.PENDING, "running")
        self._pool.submit(self._run, action, instances)

    def _run(self, action: RunCheck, instances: list[str]) -> None:
        try:
            result = run_load_test(action, instances) if action.load_test else run_webhook(action, instances)
        except Exception as exc:  # a broken check fails, it does not take the driver down
            log.exception("check %s failed to run", action.name)
            result = CheckResult(CheckStatus.FAILED, f"the check could not run: {exc}")
        if not action.report:
            log.warning("check %s (%s): %s %s", action.name, action.point, result.status, result.detail)
        with self._lock:
            self.results[action.check_id] = result

    def forget(self, deployment_id: str) -> None:
        """Drop the results of a finished deployment's checks (ids start with ``<deployment>/``)."""
        prefix = f"{deployment_id}/"
        with self._lock:
            for check_id in [c for c in self.results if c.startswith(prefix)]:
                del self.results[check_id]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def webhook_body(action: RunCheck, instances: list[str]) -> dict[str, object]:
    """What a check's webhook receives: the payload plus the fleet's instance URLs (for integration tests)."""
    return {**action.payload, "Check": action.name, "Point": action.point, "FleetId": action.fleet_id,
            "Instances": instances}


def run_webhook(action: RunCheck, instances: list[str]) -> CheckResult:
    """POST the payload (plus the green fleet's instance URLs, for integration tests); 2xx passes."""
    assert action.url is not None
    body = webhook_body(action, instances)
    detail = ""
    for attempt in range(1, action.retries + 2):
        try:
            response = httpx.post(action.url, json=body, timeout=action.timeout_s)
            if 200 <= response.status_code < 300:
                return CheckResult(CheckStatus.PASSED, f"HTTP {response.status_code} after {attempt} attempt(s)")
            detail = f"HTTP {response.status_code} after {attempt} attempt(s): {response.text[:200]}"
        except httpx.HTTPError as exc:
            detail = f"{type(exc).__name__} after {attempt} attempt(s): {exc}"
    return CheckResult(CheckStatus.FAILED, detail)


def run_load_test(action: RunCheck, instances: list[str]) -> CheckResult:
    """Send the sample payloads straight to the green fleet's instances; fail above the bounds."""
    config = action.load_test
    assert config is not None
    if not instances:
        return CheckResult(CheckStatus.FAILED, f"fleet {action.fleet_id} has no ready instance")
    location = config.PayloadsFile
    path = Path(urlsplit(location).path) if location.startswith("file://") else Path(location)
    payloads = [line for line in path.read_text().splitlines() if line.strip()]
    if not payloads:
        return CheckResult(CheckStatus.FAILED, f"{location} holds no payload")
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def send(index: int, client: httpx.Client) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            response = client.post(f"{instances[index % len(instances)]}/invocations",
                                   content=payloads[index % len(payloads)],
                                   headers={"Content-Type": config.ContentType})
            failed = response.status_code >= 300
        except httpx.HTTPError:
            failed = True
        with lock:
            latencies.append((time.perf_counter() - started) * 1000)
            errors += failed

    def worker(offset: int) -> None:
        with httpx.Client(timeout=action.timeout_s) as client:
            for index in range(offset, config.Requests, config.Concurrency):
                send(index, client)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(config.Concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = errors / config.Requests
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    detail = f"{config.Requests} requests: error rate {rate:.3f}, p99 {p99:.1f} ms"
    if rate > config.MaxErrorRate:
        return CheckResult(CheckStatus.FAILED, f"{detail} (max error rate {config.MaxErrorRate})")
    if config.MaxP99LatencyInMilliseconds is not None and p99 > config.MaxP99LatencyInMilliseconds:
        return CheckResult(CheckStatus.FAILED, f"{detail} (max p99 {config.MaxP99LatencyInMilliseconds} ms)")
    return CheckResult(CheckStatus.PASSED, detail)
