"""Paced load for live scaling tests and the bench: ``clients`` threads, each sending ``rate`` requests per
second to an endpoint; the number of clients can change while it runs (a load step). Every answer is counted;
any non-200 answer or transport error is a failure."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Load:
    base_url: str
    endpoint: str
    body: str
    rate: float = 10.0
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[tuple[threading.Thread, threading.Event]] = field(default_factory=list)

    def set_clients(self, n: int) -> None:
        while len(self._threads) < n:
            stop = threading.Event()
            thread = threading.Thread(target=self._client, args=(stop,), daemon=True)
            self._threads.append((thread, stop))
            thread.start()
        while len(self._threads) > n:
            thread, stop = self._threads.pop()
            stop.set()
            thread.join(timeout=30)

    def stop(self) -> None:
        self.set_clients(0)

    def _client(self, stop: threading.Event) -> None:
        period = 1.0 / self.rate
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            next_at = time.monotonic()
            while not stop.is_set():
                try:
                    answer = http.post(f"/endpoints/{self.endpoint}/invocations", content=self.body,
                                       headers={"Content-Type": "text/csv"})
                    outcome = None if answer.status_code == 200 else f"{answer.status_code}: {answer.text[:200]}"
                except httpx.HTTPError as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    if outcome is None:
                        self.ok += 1
                    else:
                        self.failures.append(outcome)
                next_at += period
                stop.wait(max(0.0, next_at - time.monotonic()))
