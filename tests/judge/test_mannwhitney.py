"""Kayenta's Mann-Whitney classifier: short-circuits, bounds, direction, effect sizes, critical."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from greenfleet.judge.mannwhitney import compare_shift, thin
from greenfleet.judge.report import Verdict

RNG = np.random.default_rng(7)
BLUE = RNG.lognormal(3, 0.4, 400)


def test_three_times_slower_is_high_and_critical() -> None:
    green = RNG.lognormal(3, 0.4, 200) * 3
    result = compare_shift(BLUE, green, direction="INCREASE", critical=(1.5, 1.0))
    assert result.verdict is Verdict.HIGH and result.critical
    assert result.effect == pytest.approx(green.mean() / BLUE.mean())
    assert result.p_value == mannwhitneyu(np.sort(green), np.sort(BLUE)).pvalue
    assert result.interval is not None and result.bound is not None
    assert result.interval.lower > result.bound == pytest.approx(0.25 * abs(result.interval.estimate))


def test_identical_distributions_pass() -> None:
    result = compare_shift(BLUE, RNG.lognormal(3, 0.4, 300), direction="EITHER")
    assert result.verdict is Verdict.PASS and not result.critical


def test_direction_decides_which_change_is_bad() -> None:
    faster = RNG.lognormal(3, 0.4, 300) / 3
    assert compare_shift(BLUE, faster, direction="INCREASE").verdict is Verdict.PASS
    assert compare_shift(BLUE, faster, direction="EITHER").verdict is Verdict.LOW
    assert compare_shift(BLUE, faster, direction="DECREASE").verdict is Verdict.LOW
    slower = BLUE * 2
    assert compare_shift(BLUE, slower, direction="DECREASE").verdict is Verdict.PASS


def test_significant_but_within_the_tolerance_passes() -> None:
    """Kayenta's rule: the interval must clear tolerance x |estimate|, not just exclude 0."""
    blue = RNG.normal(100, 10, 3000)
    green = RNG.normal(101.5, 10, 3000)
    strict = compare_shift(blue, green, direction="INCREASE", tolerance=0.0)
    loose = compare_shift(blue, green, direction="INCREASE", tolerance=0.9)
    assert strict.interval is not None and strict.interval.lower > 0
    assert strict.verdict is Verdict.HIGH and loose.verdict is Verdict.PASS


def test_effect_size_thresholds() -> None:
    green = BLUE * 1.3
    assert compare_shift(BLUE, green, direction="INCREASE", allowed=(1.5, 1.0)).verdict is Verdict.PASS
    high = compare_shift(BLUE, green, direction="INCREASE", allowed=(1.1, 1.0), critical=(1.5, 1.0))
    assert high.verdict is Verdict.HIGH and not high.critical


@pytest.mark.parametrize(
    ("control", "experiment", "verdict", "message"),
    [
        ([], [1.0, 2.0], Verdict.NODATA, "no data"),
        ([1.0, 2.0], [], Verdict.NODATA, "no data"),
        ([3.0, 1.0, 2.0], [1.0, 2.0, 3.0], Verdict.PASS, "identical samples"),
        ([5.0] * 10, [5.0] * 20, Verdict.PASS, "identical samples"),
    ],
)
def test_short_circuits(control: list[float], experiment: list[float], verdict: Verdict, message: str) -> None:
    result = compare_shift(np.array(control), np.array(experiment))
    assert (result.verdict, result.message) == (verdict, message)


def test_constant_but_different_sides_are_classified_without_jitter() -> None:
    result = compare_shift(np.full(60, 10.0), np.full(60, 30.0), direction="INCREASE")
    assert result.verdict is Verdict.HIGH
    assert result.interval is not None and (result.interval.lower, result.interval.upper) == (20.0, 20.0)


def test_zero_control_mean_leaves_the_effect_check_out() -> None:
    result = compare_shift(np.zeros(50), np.ones(50), direction="INCREASE")
    assert np.isnan(result.effect) and result.verdict is Verdict.HIGH and result.critical


def test_thinning_keeps_evenly_spaced_order_statistics() -> None:
    values = RNG.normal(size=1001)
    thinned = thin(values, 11)
    assert len(thinned) == 11 and thinned[0] == values.min() and thinned[-1] == values.max()
    assert thinned[5] == np.median(values)
    assert len(thin(values)) == 1001
