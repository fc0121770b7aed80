"""The serverless controller's I/O, a named step of every pass (cheap: it reads the pass's endpoint rows, the
router's in-memory request times and, only when the pass has a serverless variant, the other routers' reported
demand; it writes only to start or stop instances): observe, step, apply.

Demand from every router counts: the leader's own router's (in memory) merged with what ``remote(now)``
returns, the other routers' (control/router_presence.py ``remote_demand``: follower servers' and ``greenfleet
router`` processes', never the leader's own router again), so a variant only they serve stays warm and a
request one of them holds for a cold start starts the variant."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import GreenfleetError
from greenfleet.resources.endpoint_state import DesiredState
from greenfleet.router.proxy import Router
from greenfleet.scaling.serverless import Demand, ServerlessObservation, State, step
from greenfleet.services.endpoints import EndpointService

log = logging.getLogger("greenfleet.serverless")

RemoteDemand = Callable[[float], Mapping[tuple[str, str], Demand]]
"""now → (endpoint, serverless variant) → the other routers' demand."""


def _with(local: ServerlessObservation, remote: Demand) -> ServerlessObservation:
    """``local`` (the leader's router's demand) with the other routers' added."""
    demand = Demand(local.last_request, local.in_flight).merge(remote)
    return replace(local, last_request=demand.last_request, in_flight=demand.in_flight)


class ServerlessDriver:
    name = "serverless"

    def __init__(self, router: Router, endpoints: EndpointService, idle_s: float,
                 remote: RemoteDemand) -> None:
        self.router, self.endpoints, self.idle_s, self.remote = router, endpoints, idle_s, remote
        self.state: State = {}

    def observe(self, snapshot: Snapshot) -> list[ServerlessObservation]:
        found = []
        for row in snapshot.endpoints:
            state: DesiredState = row["state"]
            blocked = row["status"] != "InService" or state.deployment is not None
            for variant in state.current.variants:
                if variant.serverless is None:
                    continue
                key = (row["name"], variant.name)
                found.append(ServerlessObservation(
                    row["name"], variant.name, variant.desired_count, variant.serverless.provisioned,
                    self.router.last_request.get(key), self.router.serverless_in_flight.get(key, 0), blocked))
        if not found:
            return found  # no serverless variant: the other routers' reports are not read
        try:
            remote = self.remote(snapshot.now)
        except Exception as exc:  # the store: this pass starts what its own router asks for and stops nothing
            log.warning("cannot read the other routers' serverless demand (%s); stopping nothing this pass",
                        type(exc).__name__)
            return [replace(o, partial=True) for o in found]
        return [_with(o, remote[(o.endpoint, o.variant)]) if (o.endpoint, o.variant) in remote else o for o in found]

    def run(self, snapshot: Snapshot) -> None:
        self.state, actions = step(self.state, self.observe(snapshot), snapshot.now, self.idle_s)
        for action in actions:
            try:
                self.endpoints.set_serverless_count(action.endpoint, action.variant, action.count)
                log.info("serverless %s/%s: %d warm (%s)", action.endpoint, action.variant, action.count,
                         action.reason)
            except GreenfleetError as exc:
                log.warning("serverless %s/%s: %s", action.endpoint, action.variant, exc.message)
