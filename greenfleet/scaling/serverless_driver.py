"""The serverless controller's I/O, a named step of every pass (cheap: it reads the pass's endpoint rows and
the router's in-memory request times; it writes only to start or stop instances): observe, step, apply."""

from __future__ import annotations

import logging

from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import GreenfleetError
from greenfleet.resources.endpoint_state import DesiredState
from greenfleet.router.proxy import Router
from greenfleet.scaling.serverless import ServerlessObservation, State, step
from greenfleet.services.endpoints import EndpointService

log = logging.getLogger("greenfleet.serverless")


class ServerlessDriver:
    name = "serverless"

    def __init__(self, router: Router, endpoints: EndpointService, idle_s: float) -> None:
        self.router, self.endpoints, self.idle_s = router, endpoints, idle_s
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
        return found

    def run(self, snapshot: Snapshot) -> None:
        self.state, actions = step(self.state, self.observe(snapshot), snapshot.now, self.idle_s)
        for action in actions:
            try:
                self.endpoints.set_serverless_count(action.endpoint, action.variant, action.count)
                log.info("serverless %s/%s: %d warm (%s)", action.endpoint, action.variant, action.count,
                         action.reason)
            except GreenfleetError as exc:
                log.warning("serverless %s/%s: %s", action.endpoint, action.variant, exc.message)
