"""Production traffic: users invoking the prod endpoint from threads of their own, with real HTTP through the
server's router, for the whole story. Each request is one row of the dataset (chosen at random) and carries
an inference id naming the row (``row<index>-<n>``), so answers captured by the server can be scored against
the row's label afterwards. ``shift`` changes the input stream (drift) from the moment it is set."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from random import Random

import httpx
import numpy as np
from models import csv_line

__all__ = ["Traffic", "row_of"]


def row_of(inference_id: str) -> int:
    """The dataset row an inference id of this traffic names."""
    return int(inference_id.split("-", 1)[0].removeprefix("row"))


class Traffic:
    def __init__(self, url: str, endpoint: str, rows: np.ndarray, users: int = 4, think_s: float = 0.02,
                 seed: int = 0) -> None:
        self.url, self.endpoint, self.rows = url, endpoint, rows
        self.think_s = think_s
        self.shift: Callable[[np.ndarray], np.ndarray] | None = None
        self.phase = "setup"
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.answers: Counter[tuple[str, int]] = Counter()
        """(phase, HTTP status) → count."""
        self.shifted_sent = 0
        self.threads = [threading.Thread(target=self._user, args=(Random(seed * 100 + k), k), daemon=True)
                        for k in range(users)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stop_flag.set()
        for thread in self.threads:
            thread.join(30)

    def counts(self, phase: str) -> dict[str, int]:
        with self.lock:
            found = {status: n for (p, status), n in self.answers.items() if p == phase}
        return {"requests": sum(found.values()), "ok": found.get(200, 0),
                "failed": sum(n for status, n in found.items() if status != 200),
                **{f"status_{status}": n for status, n in sorted(found.items()) if status != 200}}

    def _user(self, rng: Random, user: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            n = 0
            while not self.stop_flag.wait(rng.expovariate(1 / self.think_s)):
                index = rng.randrange(len(self.rows))
                row, shift, phase = self.rows[index], self.shift, self.phase
                if shift is not None:
                    row = shift(row)
                n += 1
                try:
                    response = http.post(f"/endpoints/{self.endpoint}/invocations", content=csv_line(row),
                                         headers={"Content-Type": "text/csv",
                                                  "X-Amzn-SageMaker-Inference-Id": f"row{index}-{user}-{n}"})
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                    time.sleep(0.05)
                with self.lock:
                    self.answers[(phase, status)] += 1
                    if shift is not None:
                        self.shifted_sent += 1
