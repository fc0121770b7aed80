"""An A/B test's live status: per variant n, mean and a 95 % interval; B's lift over A with the always-valid
interval of the judge's mSPRT; and the decision in words."""

from __future__ import annotations

import math
from typing import Any

from greenfleet.feedback.machine import AbObservation, AbSpec, AbState, look
from greenfleet.judge.samples import Counts, Moments

Doc = dict[str, Any]
Z95 = 1.959964


def side(spec: AbSpec, stats: Doc | None) -> Counts | Moments:
    stats = stats or {"rewards": 0, "sum": 0.0, "squares": 0.0, "labelled": 0, "correct": 0}
    if spec.metric == "Accuracy":
        return Counts(int(stats["labelled"]), int(stats["correct"]))
    n = int(stats["rewards"])
    if n == 0:
        return Moments(0)
    mean = stats["sum"] / n
    variance = max(0.0, (stats["squares"] - n * mean * mean) / (n - 1)) if n > 1 else 0.0
    return Moments(n, mean, variance)


def observation(spec: AbSpec, stats: dict[str, Doc], shift_started: bool = False) -> AbObservation:
    return AbObservation(side(spec, stats.get(spec.variant_a)), side(spec, stats.get(spec.variant_b)),
                         shift_started)


def _variant(name: str, sample: Counts | Moments) -> Doc:
    if isinstance(sample, Counts):
        n, mean = sample.trials, sample.rate
        half = Z95 * math.sqrt(mean * (1 - mean) / n) if n and mean is not None else None
    else:
        n, mean = sample.count, sample.mean if sample.count else None
        half = Z95 * math.sqrt(sample.variance / n) if n > 1 else None
    return {"VariantName": name, "N": n, "Mean": mean,
            "Interval": [mean - half, mean + half] if mean is not None and half is not None else None}


def decision_text(spec: AbSpec, state: AbState) -> str:
    confidence = f"{1 - spec.alpha:.0%}"
    if state.decision == "B better":
        return f"B ({spec.variant_b}) better with {confidence} confidence"
    if state.decision == "A better":
        return f"A ({spec.variant_a}) better with {confidence} confidence"
    return "no difference yet"


def live_status(row: Doc, spec: AbSpec, state: AbState, stats: dict[str, Doc]) -> Doc:
    obs = observation(spec, stats)
    result: Doc = {"Name": row["name"], "EndpointName": row["endpoint_name"], "Status": row["status"],
                   "CreationTime": row["created_at"], "Metric": spec.metric,
                   "MinimumSamples": spec.minimum_samples, "Confidence": 1 - spec.alpha,
                   "OnDecision": spec.on_decision, "Variants": [_variant(spec.variant_a, obs.a),
                                                                _variant(spec.variant_b, obs.b)],
                   "Decision": decision_text(spec, state), "DecisionTime": state.decided_at,
                   "AlwaysValidPValues": {"BBetter": state.p_b_better, "ABetter": state.p_a_better}}
    current = look(spec, obs)
    if current is not None:
        lift: Doc = {"Absolute": current.delta, "AbsoluteInterval": [current.lower, current.upper]}
        if current.control:
            lift["Relative"] = current.delta / current.control
            lift["RelativeInterval"] = [current.lower / current.control, current.upper / current.control]
        result["Lift"] = lift
    return result
