"""The always-valid sequential test: the reference's formulas, independent transcriptions, statsmodels and
scipy standard errors, and A/A simulations under continuous peeking."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ttest_ind
from statsmodels.stats.proportion import confint_proportions_2indep

from greenfleet.judge.samples import Counts, Moments
from greenfleet.judge.sequential import (
    confidence_half_width,
    log_e_value,
    mean_look,
    p_value,
    proportion_look,
    rho,
)


def johari_lambda(delta: float, v: float, n: int, tau2: float) -> float:
    """The normal-mixture mSPRT as Johari et al. write it (monitoring-and-stats.md §3(a)):
    Lambda = sqrt(V / (V + n tau^2)) * exp(n^2 tau^2 delta^2 / (2 V (V + n tau^2)))."""
    return math.sqrt(v / (v + n * tau2)) * math.exp(n * n * tau2 * delta * delta / (2 * v * (v + n * tau2)))


@pytest.mark.parametrize(
    ("delta", "sigma2", "n", "alpha"),
    [(0.01, 0.2, 1000, 0.05), (-0.03, 0.09, 400, 0.025), (0.0, 1.0, 50, 0.05), (0.2, 25.0, 10_000, 0.01)],
)
def test_e_value_is_joharis_mixture_with_tau2_rho2_sigma2(delta: float, sigma2: float, n: int, alpha: float) -> None:
    r = math.sqrt((-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / 5000)
    assert rho(alpha) == r
    expected = johari_lambda(delta, sigma2, n, r * r * sigma2)
    assert math.exp(log_e_value(delta, sigma2, n, alpha)) == pytest.approx(expected, rel=1e-12)
    assert p_value(delta, sigma2, n, alpha) == pytest.approx(min(1.0, 1 / expected), rel=1e-12)


def test_confidence_sequence_and_p_value_agree() -> None:
    """p <= alpha exactly when the sequence excludes the tested difference."""
    sigma2, n, alpha = 0.3, 2000, 0.05
    half = confidence_half_width(sigma2, n, alpha)
    r2 = rho(alpha) ** 2
    expected = math.sqrt(sigma2) * math.sqrt(2 * (n * r2 + 1) / (n * n * r2) * math.log(math.sqrt(n * r2 + 1) / alpha))
    assert half == pytest.approx(expected, rel=1e-12)
    assert p_value(half, sigma2, n, alpha) == pytest.approx(alpha, rel=1e-9)
    assert p_value(half * 0.99, sigma2, n, alpha) > alpha > p_value(half * 1.01, sigma2, n, alpha)


def test_huge_evidence_does_not_overflow() -> None:
    assert p_value(1.0, 1e-6, 10**7, 0.05) == 0.0
    assert p_value(0.5, 0.0, 100, 0.05) == 0.0 and p_value(0.0, 0.0, 100, 0.05) == 1.0


def test_proportion_standard_error_is_statsmodels_wald() -> None:
    blue, green = Counts(4000, 120), Counts(1000, 45)
    look = proportion_look(blue, green, alpha=0.05, prior=0.0)
    low, high = confint_proportions_2indep(45, 1000, 120, 4000, method="wald", compare="diff", alpha=0.05)
    assert look.delta == pytest.approx((low + high) / 2, rel=1e-12)
    assert look.se == pytest.approx((high - low) / (2 * 1.959963984540054), rel=1e-9)
    assert look.lower < look.delta < look.upper


def test_prior_keeps_a_variance_when_a_side_has_no_errors() -> None:
    look = proportion_look(Counts(500, 0), Counts(500, 500), alpha=0.05)
    assert look.se > 0 and look.p_high < 1e-6
    assert proportion_look(Counts(500, 0), Counts(500, 0), alpha=0.05).p_high == 1.0


def test_mean_standard_error_is_welchs() -> None:
    rng = np.random.default_rng(3)
    blue, green = rng.normal(10, 2, 300), rng.normal(10.4, 3, 200)
    look = mean_look(Moments.of(blue), Moments.of(green), alpha=0.05)
    welch = ttest_ind(green, blue, equal_var=False)
    assert look.delta / look.se == pytest.approx(welch.statistic, rel=1e-12)


def test_margin_and_sides() -> None:
    blue, green = Counts(10_000, 100), Counts(10_000, 160)  # +0.6 points
    assert proportion_look(blue, green, alpha=0.05).p_high < 0.05
    assert proportion_look(blue, green, alpha=0.05, margin=0.01).p_high == 1.0  # within a 1-point margin
    assert proportion_look(green, blue, alpha=0.05).p_low < 0.05
    assert proportion_look(green, blue, alpha=0.05).p_high == 1.0


def test_moments_from_bins_and_values() -> None:
    values = [1.0, 1.0, 2.0, 4.0]
    assert Moments.from_bins([(1.0, 2), (2.0, 1), (4.0, 1)]) == Moments.of(values)
    assert Moments.of([]) == Moments(0) and Moments.of([3.0]) == Moments(1, 3.0, 0.0)
    with pytest.raises(ValueError, match="events <= trials"):
        Counts(3, 4)


def peeking_false_alarms(
    base: float, runs: int, looks: int, batch: int, alpha: float, seed: int
) -> tuple[float, float]:
    """(mSPRT, naive one-sided z at alpha) false-alarm rates in A/A runs checked after every batch."""
    rng = np.random.default_rng(seed)
    a = rng.binomial(batch, base, size=(runs, looks)).cumsum(axis=1)
    b = rng.binomial(batch, base, size=(runs, looks)).cumsum(axis=1)
    z = 1.6448536269514722
    sequential = naive = 0
    for run in range(runs):
        fired = naive_fired = False
        running_min = 1.0
        for look in range(looks):
            n = batch * (look + 1)
            seen = proportion_look(Counts(n, int(a[run, look])), Counts(n, int(b[run, look])), alpha=alpha)
            running_min = min(running_min, seen.p_high)
            fired = fired or running_min <= alpha
            naive_fired = naive_fired or (seen.se > 0 and seen.delta / seen.se > z)
        sequential += fired
        naive += naive_fired
    return sequential / runs, naive / runs


def test_aa_false_alarms_stay_below_alpha_under_continuous_peeking() -> None:
    """2000 A/A runs x 40 looks, error rate 5 %: the naive test peeked at every look fires far more often
    than alpha; the always-valid one stays below it."""
    sequential, naive = peeking_false_alarms(0.05, runs=2000, looks=40, batch=100, alpha=0.05, seed=11)
    assert sequential <= 0.05
    assert naive > 0.15


@pytest.mark.slow
@pytest.mark.parallel  # (simulated A/A runs: CPU only, nothing timed)
@pytest.mark.parametrize(("base", "batch"), [(0.1, 100), (0.01, 200), (0.001, 1000), (0.02, 10)])
def test_aa_false_alarms_at_many_rates_and_sizes(base: float, batch: int) -> None:
    sequential, _ = peeking_false_alarms(base, runs=4000, looks=100, batch=batch, alpha=0.05, seed=5)
    assert sequential <= 0.05


def test_a_real_increase_is_found() -> None:
    rng = np.random.default_rng(2)
    found = 0
    for _ in range(200):
        running_min, n_blue, e_blue, n_green, e_green = 1.0, 0, 0, 0, 0
        for _look in range(40):
            n_blue, e_blue = n_blue + 200, e_blue + int(rng.binomial(200, 0.01))
            n_green, e_green = n_green + 200, e_green + int(rng.binomial(200, 0.03))
            look = proportion_look(Counts(n_blue, e_blue), Counts(n_green, e_green), alpha=0.05)
            running_min = min(running_min, look.p_high)
        found += running_min <= 0.05
    assert found / 200 >= 0.95  # 1 % -> 3 % within 8000 requests a side
