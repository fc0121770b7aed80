"""An always-valid sequential test: the normal-mixture mSPRT and its confidence sequence
(monitoring-and-stats.md §3(a), Johari et al.; GrowthBook's asymptotic confidence sequences).

With n = n_A + n_B samples (blue A, green B), the difference d = est_B - est_A, its squared standard error
se^2 and sigma^2 = n·se^2:

    rho = sqrt((-2 ln a + ln(1 - 2 ln a)) / N*)                                (N* = 5000 by default)
    E   = (n rho^2 + 1)^(-1/2) · exp(n^2 rho^2 d^2 / (2 sigma^2 (n rho^2 + 1)))
    p   = min(1, 1/E)                      always valid: keep the running minimum over the looks
    CS  = d ± sigma · sqrt(2 (n rho^2 + 1) / (n^2 rho^2) · ln(sqrt(n rho^2 + 1) / a))

p <= a exactly when the confidence sequence excludes the tested value, and P(ever p <= a) <= a under the
null however often one looks.

One-sided with a margin M (the null: green is no worse than blue by more than M): the HIGH side tests d
against +M (p_high = p(d - M) when d > M, else 1), the LOW side against -M. Each side uses the symmetric
mixture at level a, which is conservative for one side.

- Proportions: d = p_B - p_A; se^2 = r_A(1-r_A)/n_A + r_B(1-r_B)/n_B with r = (events + prior) /
  (trials + 2·prior). ``prior`` = 0 is the reference's p-hat; the default 0.5 (Jeffreys) keeps se^2 > 0 when
  a side has no errors yet (0 of 500 against 500 of 500 must not read as "no evidence").
- Means: se^2 = s_A^2/n_A + s_B^2/n_B (§3(b)); d = mean_B - mean_A.

When sigma^2 = 0 (constant samples on both sides) a non-zero difference is certain (p = 0), none is p = 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from greenfleet.judge.samples import Counts, Moments

__all__ = [
    "SequentialLook",
    "confidence_half_width",
    "log_e_value",
    "mean_look",
    "p_value",
    "proportion_look",
    "rho",
]


def rho(alpha: float, n_star: float = 5000.0) -> float:
    return math.sqrt((-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / n_star)


def log_e_value(delta: float, sigma2: float, n: int, alpha: float, n_star: float = 5000.0) -> float:
    """ln E, the mixture likelihood ratio against "difference = 0" (shift delta for other nulls)."""
    r2 = rho(alpha, n_star) ** 2
    if sigma2 <= 0:
        return math.inf if delta != 0 else 0.0
    return -0.5 * math.log(n * r2 + 1) + (n * n * r2 * delta * delta) / (2 * sigma2 * (n * r2 + 1))


def p_value(delta: float, sigma2: float, n: int, alpha: float, n_star: float = 5000.0) -> float:
    """min(1, 1/E), computed in logs (no overflow)."""
    return min(1.0, math.exp(-log_e_value(delta, sigma2, n, alpha, n_star)))


def confidence_half_width(sigma2: float, n: int, alpha: float, n_star: float = 5000.0) -> float:
    r2 = rho(alpha, n_star) ** 2
    if sigma2 <= 0:
        return 0.0
    return math.sqrt(sigma2 * 2 * (n * r2 + 1) / (n * n * r2) * math.log(math.sqrt(n * r2 + 1) / alpha))


@dataclass(frozen=True)
class SequentialLook:
    """One look at the data so far; p_high / p_low are this look's (the caller keeps running minima)."""

    n: int
    control: float
    experiment: float
    delta: float
    se: float
    lower: float
    upper: float
    p_high: float
    p_low: float


def _look(
    control: float, experiment: float, se2: float, n: int, alpha: float, n_star: float, margin: float
) -> SequentialLook:
    delta = experiment - control
    sigma2 = n * se2
    half = confidence_half_width(sigma2, n, alpha, n_star)
    high = p_value(delta - margin, sigma2, n, alpha, n_star) if delta - margin > 0 else 1.0
    low = p_value(delta + margin, sigma2, n, alpha, n_star) if delta + margin < 0 else 1.0
    return SequentialLook(n, control, experiment, delta, math.sqrt(se2), delta - half, delta + half, high, low)


def proportion_look(
    control: Counts,
    experiment: Counts,
    *,
    alpha: float,
    n_star: float = 5000.0,
    margin: float = 0.0,
    prior: float = 0.5,
) -> SequentialLook:
    if control.trials == 0 or experiment.trials == 0:
        raise ValueError("proportion_look needs trials on both sides")
    se2 = 0.0
    for side in (control, experiment):
        r = (side.events + prior) / (side.trials + 2 * prior)
        se2 += r * (1 - r) / side.trials
    n = control.trials + experiment.trials
    return _look(control.events / control.trials, experiment.events / experiment.trials, se2, n, alpha, n_star, margin)


def mean_look(
    control: Moments, experiment: Moments, *, alpha: float, n_star: float = 5000.0, margin: float = 0.0
) -> SequentialLook:
    if control.count == 0 or experiment.count == 0:
        raise ValueError("mean_look needs samples on both sides")
    se2 = control.variance / control.count + experiment.variance / experiment.count
    n = control.count + experiment.count
    return _look(control.mean, experiment.mean, se2, n, alpha, n_star, margin)
