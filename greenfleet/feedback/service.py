"""The feedback API and A/B tests.

PutFeedback records outcomes by inference id, in batches: a reward (any finite number) or a ground-truth
label (compared with what the variant answered). An outcome is accepted for an inference id that an
endpoint under an A/B test answered within the retention (``GREENFLEET_FEEDBACK_RETENTION_S``); each one
is stored once (durable, in the store): sending the same outcome again is an idempotent success (counted
in ``Duplicates``), a different outcome for a recorded id is refused in ``Failed`` (ConflictException), and
an id the endpoint did not answer (or answered before the retention) is refused in ``Failed``
(``UnknownInferenceId``); the others of the batch are recorded.

An A/B test names the endpoint's two variants, the metric (MeanReward or Accuracy), a minimum sample per
variant and what happens on a decision (Notify: an event; ShiftTraffic: also a guarded deployment giving
the winner all the traffic). Its controller is ``machine.py``, driven by ``driver.py``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ConflictError, ResourceInUse, ResourceNotFound, ValidationError
from greenfleet.feedback.assignment_flush import AssignmentFlush
from greenfleet.feedback.machine import AbSpec, AbState
from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.feedback.status import live_status
from greenfleet.resources.endpoint_state import DesiredState
from greenfleet.rollout import parse_deployment_config
from greenfleet.router.assignments import AssignmentLog
from greenfleet.services.endpoints import EndpointService

log = logging.getLogger("greenfleet.feedback")
Doc = dict[str, Any]
MAX_BATCH = 10_000
MAX_LABEL = 256
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def spec_of(row: Doc) -> AbSpec:
    spec = row["spec"]
    return AbSpec(spec["VariantA"], spec["VariantB"], spec["Metric"], int(spec["MinimumSamples"]),
                  1.0 - float(spec["Confidence"]), spec["OnDecision"])


def same_label(label: str, prediction: str) -> bool:
    first = prediction.split(",")[0].strip().strip("[]\"' ")
    try:
        return float(label) == float(first)
    except ValueError:
        return label.strip() == first


class FeedbackService:
    def __init__(self, repo: FeedbackRepository, endpoints: EndpointService, assignments: AssignmentLog,
                 clock: Clock, retention_s: float, strict_minimums: bool = True) -> None:
        self.repo, self.endpoints, self.assignments = repo, endpoints, assignments
        self.clock, self.retention_s, self.strict_minimums = clock, retention_s, strict_minimums
        self.changed: Callable[[], None] = lambda: None
        self.assignment_flush = AssignmentFlush(assignments, repo)

    def drain(self) -> None:
        """Store the router's records of who answered which inference id (also done every control pass)."""
        self.assignment_flush.flush()

    # --- feedback ----------------------------------------------------------------------------------
    def put_feedback(self, endpoint_name: str, params: Doc) -> Doc:
        self.endpoints.endpoint(endpoint_name)
        outcomes = params.get("Outcomes")
        if not isinstance(outcomes, list) or not 1 <= len(outcomes) <= MAX_BATCH:
            raise ValidationError(f"Outcomes: a list of 1 to {MAX_BATCH} outcomes")
        for index, outcome in enumerate(outcomes, start=1):
            _check_outcome(outcome, f"Outcomes.{index}")
        try:
            self.drain()
        except Exception:  # kept for the next flush; the ids stored before are still looked up
            log.warning("could not store the router's assignments before a feedback lookup", exc_info=True)
        ids = [o["InferenceId"] for o in outcomes]
        now = self.clock.now()
        assigned = self.repo.assignments(endpoint_name, ids)
        recorded = self.repo.outcomes(endpoint_name, ids)
        rows: dict[str, Doc] = {}
        failed: list[Doc] = []
        duplicates = 0
        for outcome in outcomes:
            inference_id = outcome["InferenceId"]
            assignment = assigned.get(inference_id)
            if assignment is None or assignment["at"] < now - self.retention_s:
                failed.append({"InferenceId": inference_id, "ErrorCode": "UnknownInferenceId", "Message": (
                    f"Endpoint {endpoint_name} under an A/B test answered no inference id {inference_id} in the "
                    f"last {self.retention_s:g} s")})
                continue
            row = {"endpoint_name": endpoint_name, "inference_id": inference_id,
                   "variant_name": assignment["variant_name"], "reward": outcome.get("Reward"),
                   "label": outcome.get("Label"), "recorded_at": now,
                   "correct": None if outcome.get("Label") is None else
                   int(same_label(str(outcome["Label"]), assignment["prediction"] or ""))}
            earlier = recorded.get(inference_id) or rows.get(inference_id)
            if earlier is None:
                rows[inference_id] = row
            elif (earlier["reward"], earlier["label"]) == (row["reward"], row["label"]):
                duplicates += 1
            else:
                failed.append({"InferenceId": inference_id, "ErrorCode": "ConflictException", "Message": (
                    f"Inference id {inference_id} already has another outcome; an outcome is recorded once")})
        self.repo.add_outcomes(list(rows.values()))
        return {"Recorded": len(rows), "Duplicates": duplicates, "Failed": failed}

    # --- A/B tests ---------------------------------------------------------------------------------
    def create_ab_test(self, params: Doc) -> Doc:
        name = params.get("Name")
        if not isinstance(name, str) or not 1 <= len(name) <= 63 or not set(name) <= NAME_CHARS:
            raise ValidationError("Name: 1 to 63 letters, digits and hyphens")
        spec = _ab_spec(params)
        if spec.get("DeploymentConfig") is not None:
            parse_deployment_config(spec["DeploymentConfig"], strict_minimums=self.strict_minimums)
        endpoint = self.endpoints.endpoint(spec["EndpointName"])
        if endpoint["status"] != "InService":
            raise ResourceInUse(f"Endpoint {endpoint['name']} is {endpoint['status']}; an A/B test needs it InService")
        current = endpoint["state"].current
        for key in ("VariantA", "VariantB"):
            if current.variant(spec[key]) is None:
                raise ValidationError(f"{key}: endpoint {endpoint['name']} has no production variant {spec[key]}")
        if endpoint["state"].ab_test is not None:
            raise ResourceInUse(f"Endpoint {endpoint['name']} already runs A/B test {endpoint['state'].ab_test}")
        now = self.clock.now()
        self.repo.insert_test({"name": name, "endpoint_name": endpoint["name"], "status": "Running",
                               "created_at": now, "spec": spec, "state": AbState().model_dump(mode="json")})
        try:
            self.endpoints.mutate(endpoint["name"], lambda row: _set_test(row, name, None))
        except Exception:
            self.repo.delete_test(name)
            raise
        self.endpoints.changed()
        return {"Name": name, "EndpointName": endpoint["name"]}

    def _test(self, name: str) -> Doc:
        row = self.repo.get_test(name)
        if row is None:
            raise ResourceNotFound(f"A/B test {name} does not exist")
        return row

    def describe_ab_test(self, name: str) -> Doc:
        row = self._test(name)
        stats = self.repo.variant_stats(row["endpoint_name"], row["created_at"])
        return live_status(row, spec_of(row), AbState.model_validate(row["state"]), stats)

    def list_ab_tests(self) -> Doc:
        return {"AbTests": [{"Name": r["name"], "EndpointName": r["endpoint_name"], "Status": r["status"],
                             "CreationTime": r["created_at"], "Decision": r["state"].get("decision")}
                            for r in sorted(self.repo.tests(), key=lambda r: -r["created_at"])]}

    def delete_ab_test(self, name: str) -> Doc:
        row = self._test(name)
        if self.endpoints.repo.get_endpoint(row["endpoint_name"]) is not None:
            self.endpoints.mutate(row["endpoint_name"], lambda endpoint: _set_test(endpoint, None, name))
            self.endpoints.changed()
        self.repo.delete_test(name)
        return {}


def _set_test(row: Doc, name: str | None, only_if: str | None) -> Doc:
    state: DesiredState = row["state"].copy_deep()
    if name is not None and state.ab_test is not None:
        raise ConflictError(f"Endpoint {row['name']} already runs A/B test {state.ab_test}")
    if name is None and state.ab_test != only_if:
        return {}
    state.ab_test = name
    return {"state": state}


def _check_outcome(outcome: Any, where: str) -> None:
    if not isinstance(outcome, dict):
        raise ValidationError(f"{where}: an object with InferenceId and Reward or Label")
    inference_id = outcome.get("InferenceId")
    if not isinstance(inference_id, str) or not 1 <= len(inference_id) <= 64:
        raise ValidationError(f"{where}.InferenceId: 1 to 64 characters")
    reward, label = outcome.get("Reward"), outcome.get("Label")
    if (reward is None) == (label is None):
        raise ValidationError(f"{where}: give Reward or Label (one of them)")
    if reward is not None and (isinstance(reward, bool) or not isinstance(reward, int | float)
                               or not math.isfinite(reward)):
        raise ValidationError(f"{where}.Reward: a finite number")
    if label is not None and (not isinstance(label, str | int | float) or isinstance(label, bool)
                              or len(str(label)) > MAX_LABEL):
        raise ValidationError(f"{where}.Label: a string or number of at most {MAX_LABEL} characters")
    unknown = sorted(set(outcome) - {"InferenceId", "Reward", "Label"})
    if unknown:
        raise ValidationError(f"{where}: unknown members {', '.join(unknown)}")
    if label is not None:
        outcome["Label"] = str(label)
    if reward is not None:
        outcome["Reward"] = float(reward)


def _ab_spec(params: Doc) -> Doc:
    unknown = set(params) - {"Name", "EndpointName", "VariantA", "VariantB", "Metric", "MinimumSamples",
                             "Confidence", "OnDecision", "DeploymentConfig"}
    if unknown:
        raise ValidationError(f"Unknown members: {', '.join(sorted(unknown))}")
    for key in ("EndpointName", "VariantA", "VariantB"):
        if not isinstance(params.get(key), str) or not params[key]:
            raise ValidationError(f"{key} is required")
    if params["VariantA"] == params["VariantB"]:
        raise ValidationError("VariantA and VariantB must differ")
    metric = params.get("Metric", "MeanReward")
    if metric not in ("MeanReward", "Accuracy"):
        raise ValidationError("Metric: MeanReward or Accuracy")
    minimum = params.get("MinimumSamples", 100)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        raise ValidationError("MinimumSamples: a whole number of at least 1 (outcomes per variant)")
    confidence = params.get("Confidence", 0.95)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0.5 <= confidence < 1:
        raise ValidationError("Confidence: between 0.5 and 1 (e.g. 0.95)")
    on_decision = params.get("OnDecision", "Notify")
    if on_decision not in ("Notify", "ShiftTraffic"):
        raise ValidationError("OnDecision: Notify or ShiftTraffic")
    return {"EndpointName": params["EndpointName"], "VariantA": params["VariantA"], "VariantB": params["VariantB"],
            "Metric": metric, "MinimumSamples": minimum, "Confidence": float(confidence), "OnDecision": on_decision,
            "DeploymentConfig": params.get("DeploymentConfig")}
