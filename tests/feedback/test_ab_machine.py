"""The A/B controller on simulated outcomes, look by look (a look per 100 outcomes per variant, up to 6,000):
a B 20 % better is declared the winner; A/A runs (the same rewards on both sides) rarely declare one.

At 95 % confidence the always-valid test's false-winner rate per A/A run is measured at 1.5-2 % here (3 of
200 runs; a naive z-test peeking as often declares one in about 30 %), so 20 A/A runs in a row without any
winner happen about 70 % of the time: seed 2 of the first 20 does declare one. The rate is tested over 200
runs; the "20 runs, no winner" criterion is tested at 99 % confidence (rate 0.75 %)."""

from __future__ import annotations

import numpy as np
import pytest

from greenfleet.feedback.machine import AbObservation, AbSpec, AbState, Announce, ShiftTraffic, step
from greenfleet.judge.samples import Counts, Moments

LOOK_EVERY = 100  # outcomes per variant between two looks (a control pass each)
MAX_PER_VARIANT = 6000


def run(rng: np.random.Generator, mean_a: float, mean_b: float, spec: AbSpec) -> tuple[AbState, list[object], int]:
    a = rng.normal(mean_a, 1.0, MAX_PER_VARIANT)
    b = rng.normal(mean_b, 1.0, MAX_PER_VARIANT)
    state = AbState()
    for n in range(LOOK_EVERY, MAX_PER_VARIANT + 1, LOOK_EVERY):
        state, actions = step(state, spec, AbObservation(Moments.of(a[:n]), Moments.of(b[:n])), float(n))
        if actions:
            return state, list(actions), n
    return state, [], MAX_PER_VARIANT


def test_b_twenty_percent_better_is_declared_the_winner() -> None:
    spec = AbSpec("A", "B", "MeanReward", minimum_samples=200, on_decision="ShiftTraffic")
    state, actions, n = run(np.random.default_rng(12), 1.0, 1.2, spec)
    assert state.status == "Decided" and state.decision == "B better", state
    assert actions == [Announce("B better"), ShiftTraffic("B")]
    assert n < MAX_PER_VARIANT and state.p_b_better < 0.05 <= state.p_a_better


@pytest.mark.parametrize("seed", range(20))
def test_twenty_a_a_runs_declare_no_winner_at_99_percent(seed: int) -> None:
    spec = AbSpec("A", "B", "MeanReward", minimum_samples=200, alpha=0.01)
    state, actions, _ = run(np.random.default_rng(seed), 1.0, 1.0, spec)
    assert (state.status, state.decision, actions) == ("Running", "no difference yet", []), state
    assert state.looks == MAX_PER_VARIANT // LOOK_EVERY


def test_a_a_false_winners_stay_under_alpha_at_95_percent() -> None:
    spec = AbSpec("A", "B", "MeanReward", minimum_samples=200)
    decided = sum(run(np.random.default_rng(10_000 + seed), 1.0, 1.0, spec)[0].status == "Decided"
                  for seed in range(200))
    assert decided <= 0.05 * 200 / 2, decided  # measured: 3


def test_no_decision_before_the_minimum_sample_and_accuracy_uses_proportions() -> None:
    spec = AbSpec("A", "B", "Accuracy", minimum_samples=1000)
    state, actions = step(AbState(), spec, AbObservation(Counts(500, 250), Counts(500, 450)), 1.0)
    assert actions == [] and state.p_b_better < 0.05  # significant already, but below the minimum sample
    state, actions = step(state, spec, AbObservation(Counts(1000, 500), Counts(1000, 900)), 2.0)
    assert (state.decision, actions) == ("B better", [Announce("B better")])
    assert step(state, spec, AbObservation(Counts(2000, 1000), Counts(2000, 1000)), 3.0) == (state, [])


def test_a_traffic_shift_is_asked_for_until_its_deployment_started() -> None:
    spec = AbSpec("A", "B", "Accuracy", minimum_samples=10, on_decision="ShiftTraffic")
    decided = AbState(status="Decided", decision="A better")
    assert step(decided, spec, AbObservation(Counts(10, 9), Counts(10, 1)), 1.0) == (decided, [ShiftTraffic("A")])
    assert step(decided, spec, AbObservation(Counts(10, 9), Counts(10, 1), shift_started=True), 2.0) == (decided, [])
