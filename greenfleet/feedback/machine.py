"""The A/B test controller, pure: ``step(state, spec, observation, now) -> (state, actions)``.

Each look compares B with A on the outcomes recorded so far, with the judge's always-valid sequential test
(mSPRT, greenfleet.judge.sequential): ``proportion_look`` for accuracy against labels, ``mean_look`` for
mean reward. The always-valid p-values are kept as running minima, so peeking every pass is safe. No
decision before both variants have ``minimum_samples`` outcomes; then "B better" when p(B > A) < alpha,
"A better" when p(A > B) < alpha, else "no difference yet". A decision is final: it is announced (event)
and, with ``on_decision`` ShiftTraffic, traffic moves to the winner through a guarded deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from greenfleet.judge.samples import Counts, Moments
from greenfleet.judge.sequential import SequentialLook, mean_look, proportion_look

Decision = Literal["B better", "A better", "no difference yet"]
Metric = Literal["MeanReward", "Accuracy"]


class AbState(BaseModel):
    status: Literal["Running", "Decided", "Stopped"] = "Running"
    decision: Decision = "no difference yet"
    p_b_better: float = 1.0
    """Running minimum of the always-valid p-value of "B is better"."""
    p_a_better: float = 1.0
    decided_at: float | None = None
    looks: int = 0


@dataclass(frozen=True)
class AbSpec:
    variant_a: str
    variant_b: str
    metric: Metric
    minimum_samples: int
    alpha: float = 0.05
    on_decision: Literal["Notify", "ShiftTraffic"] = "Notify"


@dataclass(frozen=True)
class AbObservation:
    a: Counts | Moments
    b: Counts | Moments
    shift_started: bool = False
    """The deployment shifting traffic to the winner was started (or the endpoint already runs it)."""


@dataclass(frozen=True)
class Announce:
    decision: Decision


@dataclass(frozen=True)
class ShiftTraffic:
    winner: str


AbAction = Announce | ShiftTraffic


def samples(side: Counts | Moments) -> int:
    return side.trials if isinstance(side, Counts) else side.count


def look(spec: AbSpec, obs: AbObservation) -> SequentialLook | None:
    """B against A (A is the control) on what was recorded so far; None without data on both sides."""
    if samples(obs.a) == 0 or samples(obs.b) == 0:
        return None
    if isinstance(obs.a, Counts) and isinstance(obs.b, Counts):
        return proportion_look(obs.a, obs.b, alpha=spec.alpha)
    if isinstance(obs.a, Moments) and isinstance(obs.b, Moments):
        return mean_look(obs.a, obs.b, alpha=spec.alpha)
    raise TypeError("both sides of an A/B test are counts or both are moments")


def _winner(spec: AbSpec, decision: Decision) -> str:
    return spec.variant_b if decision == "B better" else spec.variant_a


def step(state: AbState, spec: AbSpec, obs: AbObservation, now: float) -> tuple[AbState, list[AbAction]]:
    if state.status == "Decided" and spec.on_decision == "ShiftTraffic" and not obs.shift_started:
        return state, [ShiftTraffic(_winner(spec, state.decision))]  # retried until the deployment starts
    if state.status != "Running":
        return state, []
    current = look(spec, obs)
    if current is None:
        return state, []
    new = state.model_copy(update={"looks": state.looks + 1, "p_b_better": min(state.p_b_better, current.p_high),
                                   "p_a_better": min(state.p_a_better, current.p_low)})
    if min(samples(obs.a), samples(obs.b)) < spec.minimum_samples:
        return new, []
    decision: Decision = "B better" if new.p_b_better < spec.alpha else \
        "A better" if new.p_a_better < spec.alpha else "no difference yet"
    if decision == "no difference yet":
        return new, []
    new.status, new.decision, new.decided_at = "Decided", decision, now
    actions: list[AbAction] = [Announce(decision)]
    if spec.on_decision == "ShiftTraffic":
        actions.append(ShiftTraffic(_winner(spec, decision)))
    return new, actions
