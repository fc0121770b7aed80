"""Test doubles that observe what the router's mirror records: an invocation recorder keeping each invocation
and each dropped copy, and a pair sink keeping the production and shadow answers by inference id."""

from __future__ import annotations

from greenfleet.router.mirror import Answer

Invocation = tuple[str, str, str, float | None]
"""An invocation recorded: variant, instance id, outcome, model latency (µs)."""


class Recorded:
    """The invocations recorded, and the variants of the copies counted dropped."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self.dropped: list[str] = []

    def record_invocation(self, endpoint: str, variant: str, config: str, instance_id: str, outcome: str,
                          model_latency_us: float | None, overhead_latency_us: float, now: float) -> None:
        self.invocations.append((variant, instance_id, outcome, model_latency_us))

    def record_mirror_dropped(self, endpoint: str, variant: str, config: str, now: float) -> None:
        self.dropped.append(variant)

    def record_container_latency(self, *args: object) -> None:
        return None

    def set_instance_counts(self, counts: object) -> None:
        return None


class Pairs:
    """The answers handed to the pair sink, by inference id: production's and the shadow's."""

    def __init__(self) -> None:
        self.productions: dict[str, Answer] = {}
        self.shadows: dict[str, Answer] = {}

    def production(self, endpoint: str, inference_id: str, request: bytes, content_type: str | None,
                   answer: Answer, now: float) -> None:
        self.productions[inference_id] = answer

    def shadow(self, endpoint: str, inference_id: str, answer: Answer, now: float) -> None:
        self.shadows[inference_id] = answer
