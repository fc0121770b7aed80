"""Hodges-Lehmann shift and interval against brute force (numpy) and scipy's Mann-Whitney test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from greenfleet.judge import shift
from greenfleet.judge.shift import hodges_lehmann, interval_rank, kth_difference, shift_interval, u_null_cdf

RNG = np.random.default_rng(20240611)


def differences(e: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.sort(np.subtract.outer(e, c).ravel())


def samples(kind: str, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    if kind == "ties":
        return np.sort(RNG.integers(0, 4, m).astype(float)), np.sort(RNG.integers(0, 4, n).astype(float))
    if kind == "rounded":
        return np.sort(np.round(RNG.lognormal(3, 1, m), 1)), np.sort(np.round(RNG.lognormal(3, 1, n), 1))
    return np.sort(RNG.lognormal(0, 1, m) * 1e3), np.sort(RNG.normal(0, 1, n))


@pytest.mark.parametrize("kind", ["continuous", "rounded", "ties"])
@pytest.mark.parametrize("gather", [shift._GATHER, 25])  # 25: force the selection path on small samples
def test_kth_difference_is_exactly_numpys_order_statistic(
    kind: str, gather: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shift, "_GATHER", gather)
    for _ in range(60):
        m, n = (int(v) for v in RNG.integers(1, 70, 2))
        e, c = samples(kind, m, n)
        d = differences(e, c)
        for k in {1, len(d), (len(d) + 1) // 2, int(RNG.integers(1, len(d) + 1))}:
            assert kth_difference(e, c, k) == d[k - 1]
        assert hodges_lehmann(e, c) == np.median(d)


def test_selection_on_large_samples_matches_a_brute_force_partition() -> None:
    e, c = np.sort(RNG.lognormal(3, 0.5, 3000)), np.sort(np.round(RNG.lognormal(3, 0.5, 2000), 1))
    assert len(e) * len(c) > shift._GATHER
    d = np.subtract.outer(e, c).ravel()
    ks = [1, 1234567, len(d) // 2, len(d)]
    picked = np.partition(d, [k - 1 for k in ks])
    assert [kth_difference(e, c, k) for k in ks] == [picked[k - 1] for k in ks]
    assert hodges_lehmann(e, c) == np.median(d)


def test_kth_difference_rejects_ranks_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"k must be within 1\.\.6"):
        kth_difference(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), 7)


@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 4), (2, 3), (3, 2), (4, 6), (5, 5), (7, 3)])
def test_null_distribution_of_u_by_enumeration(m: int, n: int) -> None:
    counts = [0] * (m * n + 1)
    for ranks in itertools.combinations(range(m + n), m):  # 0-based ranks of the first sample
        counts[sum(ranks) - m * (m - 1) // 2] += 1
    cdf = np.cumsum(counts) / math.comb(m + n, m)
    assert np.allclose(u_null_cdf(m, n), cdf, rtol=0, atol=1e-15)


@pytest.mark.parametrize(("m", "n"), [(6, 9), (12, 12), (20, 15), (40, 60)])
def test_null_distribution_matches_scipys_exact_p_values(m: int, n: int) -> None:
    cdf = u_null_cdf(m, n)
    for _ in range(20):
        x, y = RNG.normal(size=m), RNG.normal(size=n)
        u = int(mannwhitneyu(x, y, method="exact").statistic)  # U of x
        assert mannwhitneyu(x, y, alternative="less", method="exact").pvalue == pytest.approx(cdf[u], rel=1e-9)


@pytest.mark.parametrize(("m", "n"), [(8, 8), (10, 14), (25, 30), (60, 45)])
def test_exact_interval_is_the_set_of_shifts_the_test_accepts(m: int, n: int) -> None:
    """[d_(k), d_(mn+1-k)] inverts the two-sided exact Mann-Whitney test at 1 - confidence (scipy)."""
    e, c = np.sort(RNG.normal(1, 1, m)), np.sort(RNG.normal(0, 1, n))
    interval = shift_interval(e, c, 0.98)
    assert interval.method == "exact" and interval.rank >= 1
    d = differences(e, c)
    for edge, outside, inside in (
        (
            interval.lower,
            (d[interval.rank - 2] + interval.lower) / 2 if interval.rank > 1 else interval.lower - 1,
            (interval.lower + d[interval.rank]) / 2,
        ),
        (
            interval.upper,
            (d[-interval.rank + 1] + interval.upper) / 2 if interval.rank > 1 else interval.upper + 1,
            (interval.upper + d[-interval.rank - 1]) / 2,
        ),
    ):
        assert edge in d
        assert mannwhitneyu(e - outside, c, method="exact").pvalue <= 0.02
        assert mannwhitneyu(e - inside, c, method="exact").pvalue > 0.02


def test_normal_rank_agrees_with_the_exact_one() -> None:
    e, c = np.sort(RNG.normal(size=100)), np.sort(RNG.normal(size=100))  # 10,000 pairs: exact
    exact, method = interval_rank(e, c, 0.98)
    assert method == "exact"
    z, sigma = 2.3263478740408408, math.sqrt(100 * 100 * 201 / 12)
    normal = math.floor(5000 - z * sigma + 0.5)
    assert exact - 3 <= normal <= exact  # U's tails are lighter than the normal's: slightly wider, conservative
    assert interval_rank(np.append(e, 9.0), c, 0.98)[1] == "normal"  # 10,100 pairs


def test_tiny_samples_give_an_unbounded_interval() -> None:
    interval = shift_interval(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), 0.98)
    assert interval.rank == 0 and (interval.lower, interval.upper) == (-math.inf, math.inf)
    assert interval.estimate == -3.0


def test_interval_covers_the_true_shift_about_98_percent_of_the_time() -> None:
    covered = 0
    runs = 400
    for _ in range(runs):
        e, c = np.sort(RNG.standard_t(3, 40) + 2.5), np.sort(RNG.standard_t(3, 50))
        interval = shift_interval(e, c, 0.98)
        covered += interval.lower <= 2.5 <= interval.upper
    assert covered / runs >= 0.96  # 0.98 +- 3 standard errors (0.007)


def test_large_samples_are_quick() -> None:
    import time

    e, c = np.sort(RNG.lognormal(3, 0.5, 50_000)), np.sort(RNG.lognormal(3, 0.5, 50_000))
    started = time.perf_counter()
    interval = shift_interval(e, c, 0.98)
    assert time.perf_counter() - started < 2.0
    assert interval.method == "normal" and interval.lower < interval.estimate < interval.upper
