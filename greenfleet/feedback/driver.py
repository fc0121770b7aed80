"""The feedback driver, a step of the control pass: store the router's assignments, prune what is older
than the retention (once a minute), and run each A/B test's controller (load, observe the outcomes per
variant, step, save, then apply: an event on a decision; with ShiftTraffic, a guarded deployment to an
endpoint config giving the winner all the traffic)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from greenfleet.control.snapshot import Snapshot
from greenfleet.errors import ConflictError, GreenfleetError
from greenfleet.events import EventService
from greenfleet.feedback.machine import AbAction, AbState, Announce, ShiftTraffic, step
from greenfleet.feedback.service import FeedbackService, spec_of
from greenfleet.feedback.status import decision_text, observation
from greenfleet.services.deployments import DeploymentService, load_rollout
from greenfleet.services.models import ModelService

log = logging.getLogger("greenfleet.feedback")
Doc = dict[str, Any]
PRUNE_EVERY_S = 60.0
EVENT_SOURCE, EVENT_TYPE = "greenfleet.abtest", "A/B Test Decision"


def winner_config_name(test: str) -> str:
    return f"{test[:56]}-winner"


class FeedbackDriver:
    name = "feedback"

    def __init__(self, feedback: FeedbackService, models: ModelService, deployments: DeploymentService,
                 events: EventService, promote_bake_s: int) -> None:
        self.feedback, self.models, self.deployments, self.events = feedback, models, deployments, events
        self.promote_bake_s = promote_bake_s
        self.pruned_at = float("-inf")

    def run(self, snapshot: Snapshot) -> None:
        self.tick(snapshot.now)

    def tick(self, now: float) -> None:
        self.feedback.drain()
        if now - self.pruned_at >= PRUNE_EVERY_S:
            self.feedback.repo.prune(now - self.feedback.retention_s)
            self.pruned_at = now
        for row in self.feedback.repo.tests():
            if row["status"] == "Stopped" or (row["status"] == "Decided" and row["spec"]["OnDecision"] == "Notify"):
                continue  # nothing more to do
            try:
                self.advance(row, now)
            except ConflictError:
                continue
            except Exception:
                log.exception("A/B test pass of %s failed", row["name"])

    def advance(self, row: Doc, now: float) -> None:
        spec, state = spec_of(row), AbState.model_validate(row["state"])
        if state.status == "Decided":  # only the traffic shift may be left to start
            stats: dict[str, Doc] = {}
            shift_started = self._shift_started(row)
        else:
            stats = self.feedback.repo.variant_stats(row["endpoint_name"], row["created_at"])
            shift_started = False
        obs = observation(spec, stats, shift_started)
        new, actions = step(state, spec, obs, now)
        if new != state:
            self.feedback.repo.save_test(row["name"], row["revision"], {
                "state": new.model_dump(mode="json"), "status": new.status})
        for action in actions:
            self.apply(row, new, action, now)

    def _shift_started(self, row: Doc) -> bool:
        config = winner_config_name(row["name"])
        endpoint = self.feedback.endpoints.repo.get_endpoint(row["endpoint_name"])
        if endpoint is None or endpoint["config_name"] == config:
            return True
        return any(load_rollout(d["state"]).green.config_name == config
                   for d in self.feedback.endpoints.repo.list_deployments(row["endpoint_name"]))

    def apply(self, row: Doc, state: AbState, action: AbAction, now: float) -> None:
        spec = spec_of(row)
        if isinstance(action, Announce):
            self.events.append(EVENT_SOURCE, EVENT_TYPE, row["endpoint_name"], {
                "AbTestName": row["name"], "EndpointName": row["endpoint_name"], "Decision": action.decision,
                "Text": decision_text(spec, state), "Metric": spec.metric,
                "PValues": {"BBetter": state.p_b_better, "ABetter": state.p_a_better}}, now)
        elif isinstance(action, ShiftTraffic):
            try:
                self._shift(row, action.winner)
            except GreenfleetError as exc:
                log.info("A/B test %s: the shift to %s waits: %s", row["name"], action.winner, exc.message)

    def _shift(self, row: Doc, winner: str) -> None:
        endpoints = self.feedback.endpoints
        endpoint = endpoints.endpoint(row["endpoint_name"])
        if endpoint["status"] != "InService":
            raise ConflictError(f"endpoint {endpoint['name']} is {endpoint['status']}")
        name = winner_config_name(row["name"])
        if endpoints.repo.get_endpoint_config(name) is None:
            config = copy.deepcopy(self.models.endpoint_config(endpoint["config_name"])["spec"])
            for variant in config["ProductionVariants"]:
                variant["InitialVariantWeight"] = 1.0 if variant["VariantName"] == winner else 0.0
            config["EndpointConfigName"] = name
            self.models.create_endpoint_config(config)
        deployment = row["spec"].get("DeploymentConfig") or {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": self.promote_bake_s},
            "TerminationWaitInSeconds": 0}}
        self.deployments.update_endpoint({"EndpointName": endpoint["name"], "EndpointConfigName": name,
                                          "DeploymentConfig": deployment})
