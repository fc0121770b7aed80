"""What the router hands sampled invocations to: ``handoff.CaptureHandoff`` (the server's: a pipe to a
capture-writer process of its own) or ``writer.CaptureWriter`` (encoding in this process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from greenfleet.capture.config import CaptureSetting

Key = tuple[str, str]
"""(endpoint, variant)"""


@dataclass(frozen=True, slots=True)
class CaptureCounts:
    written: int
    dropped: int
    """Refused on the hot path: the bounded buffer was full (backpressure)."""
    failed: int
    """Refused by the destination."""
    lost: int = 0
    """Handed to a capture-writer process that exited before confirming their write."""


class CaptureSink(Protocol):
    def capture(self, setting: CaptureSetting, endpoint: str, variant: str, at: float, request: bytes,
                request_type: str, response: bytes, response_type: str, inference_id: str | None) -> bool:
        """Take one sampled invocation without waiting; False (and counted) when it is dropped."""

    def counts(self) -> dict[Key, CaptureCounts]: ...

    def failure(self, destination: str) -> str | None:
        """Why the last write to ``destination`` failed, if it did."""

    def failures(self) -> dict[str, str]:
        """Every destination whose last write failed, and why (another router reports them to the store)."""

    def flush(self) -> None:
        """Return once everything taken so far is written (or counted as failed or lost)."""

    def start(self) -> None: ...

    def stop(self) -> None:
        """Write everything taken so far, then stop."""
