"""Serverless variants, pure: ``step(state, observations, now) -> (state, actions)`` decides how many instances
each serverless variant keeps warm. A variant asked within the idle period (or with requests in flight or held)
keeps one instance, else none; ProvisionedConcurrency N keeps N warm whatever the traffic. The router holds the
first request of a cold variant and wakes the pass, so a cold start is one pass away.

A variant's demand counts every router: the leader's own (in memory) and every other router's (a follower
server's, a ``greenfleet router`` process's), which reports its :class:`Demand` through the store
(control/router_presence.py); :meth:`Demand.merge` adds them up (the latest request, the sum in flight), so
a variant another router serves steadily stays warm, and a request another router holds starts it.

``state`` remembers when a variant was first seen, so that after a restart (the router's memory of requests is
gone) a warm variant is kept for one idle period before it may stop. First sight never warms a cold variant: a
new serverless endpoint has no instance until its first request, as on SageMaker."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Demand:
    """What one router (or several, merged) knows of a serverless variant's requests."""

    last_request: float | None = None
    """When it was last asked (clock time), None if never."""
    in_flight: int = 0
    """Requests in flight or held for a cold start."""

    def merge(self, other: Demand) -> Demand:
        """Both routers' demand: the later request, and the requests of both in flight."""
        times = [t for t in (self.last_request, other.last_request) if t is not None]
        return Demand(max(times) if times else None, self.in_flight + other.in_flight)


@dataclass(frozen=True)
class ServerlessObservation:
    endpoint: str
    variant: str
    desired: int
    provisioned: int
    last_request: float | None
    in_flight: int
    blocked: bool
    """The endpoint cannot be changed now (not InService, or a deployment runs)."""
    partial: bool = False
    """Only this router's demand is known (the other routers' reports could not be read this pass): the
    variant may be started, never stopped (other routers may be serving it)."""


@dataclass(frozen=True)
class SetWarm:
    endpoint: str
    variant: str
    count: int
    reason: str


State = dict[tuple[str, str], float]
"""(endpoint, variant) → when the controller first saw it."""


def step(state: State, observations: list[ServerlessObservation], now: float, idle_s: float
         ) -> tuple[State, list[SetWarm]]:
    seen_keys = {(o.endpoint, o.variant) for o in observations}
    after = {k: v for k, v in state.items() if k in seen_keys}
    actions: list[SetWarm] = []
    for o in observations:
        first = after.setdefault((o.endpoint, o.variant), now)
        recent = o.last_request is not None and now - o.last_request < idle_s
        grace = o.desired > 0 and now - first < idle_s  # just (re)started: keep what is warm for one period
        active = o.in_flight > 0 or recent or grace
        want = max(o.provisioned, 1 if active else 0)
        if want == o.desired or o.blocked or (o.partial and want < o.desired):
            continue
        if want > o.desired:
            reason = "a request arrived" if o.provisioned < want else f"ProvisionedConcurrency {o.provisioned}"
        else:
            reason = f"no request for {idle_s:g} s"
        actions.append(SetWarm(o.endpoint, o.variant, want, reason))
    return after, actions
