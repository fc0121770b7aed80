"""``evaluate``: one look of the judge at blue and green over a window, given the previous look.

The driver calls it each tick while green and blue share traffic (greenfleet.rollout.judging says when, on
which window, and whether this look is a judgement point) and hands the report to the rollout machine,
which stores it; the next look gets it back as ``previous``. Carried from look to look (same window only):
the running minima of the sequential p-values and the no-data counts, so a restart resumes with them.

Two kinds of look:

- interim (``judgement=False``, every tick): fixed-horizon metrics (Mann-Whitney) are not tested
  (PENDING: sample counts and medians only, which keeps a tick cheap), and no-data is not counted. The
  decision is ROLLBACK only when the always-valid metrics alone make the judgement certain to fail (a
  critical one failed, or the score is FAIL even with every PENDING metric passing); otherwise CONTINUE,
  which means "no objection yet".
- judgement point (``judgement=True``, at the end of a step's bake and every IntervalInSeconds while held):
  every metric counts; a metric without enough data is NODATA (left out of the score, counted; past
  NoDataLimit NODATA_FAIL); nothing judged or a MustHaveData metric without data -> HOLD; otherwise the
  score decides (score.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from greenfleet.judge.config import JudgeConfig, MetricConfig
from greenfleet.judge.mannwhitney import compare_shift
from greenfleet.judge.report import Decision, JudgeReport, MetricReport, ScoreClass, Verdict
from greenfleet.judge.samples import Counts, MetricSamples, Moments, Sample, as_values
from greenfleet.judge.score import classify, decision_for, score, weights
from greenfleet.judge.sequential import mean_look, proportion_look

__all__ = ["evaluate"]


def evaluate(
    config: JudgeConfig,
    samples: Mapping[str, MetricSamples],
    *,
    at: float,
    window_start: float,
    judgement: bool,
    previous: JudgeReport | None = None,
) -> JudgeReport:
    carried = {m.name: m for m in previous.metrics} if previous and previous.window_start == window_start else {}
    reports = tuple(
        _metric(config, metric, samples.get(metric.Name), carried.get(metric.Name), judgement)
        for metric in config.Metrics
    )
    value, classification, decision, reason = _decide(config, reports, judgement)
    return JudgeReport(
        at=at,
        window_start=window_start,
        judgement=judgement,
        metrics=reports,
        score=value,
        classification=classification,
        decision=decision,
        reason=reason,
    )


def _decide(
    config: JudgeConfig, reports: tuple[MetricReport, ...], judgement: bool
) -> tuple[float | None, ScoreClass | None, Decision, str]:
    weight = weights(config)
    value = score(reports, weight)
    failing = ", ".join(
        f"{r.name} {r.verdict}" + (" (critical)" if r.critical else "")
        for r in reports
        if r.counted and r.verdict is not Verdict.PASS
    )
    detail = f": {failing}" if failing else ""
    if not judgement:
        optimistic = [
            r.model_copy(update={"counted": True, "verdict": Verdict.PASS}) if r.verdict is Verdict.PENDING else r
            for r in reports
        ]
        best = score(optimistic, weight)
        if best is not None and classify(best, config) is ScoreClass.FAIL:
            return value, ScoreClass.FAIL, Decision.ROLLBACK, f"score {best:g} (FAIL) whatever is still open{detail}"
        return value, classify(value, config) if value is not None else None, Decision.CONTINUE, "interim look"
    missing = [r.name for r in reports if r.verdict is Verdict.NODATA and _must_have_data(config, r.name)]
    if value is None:
        return None, None, Decision.HOLD, "no data for any metric"
    classification = classify(value, config)
    decision = decision_for(classification)
    reason = f"score {value:g} ({classification}){detail}"
    if missing and decision is Decision.CONTINUE:
        return value, classification, Decision.HOLD, f"{reason}; waiting for data: {', '.join(missing)}"
    return value, classification, decision, reason


def _must_have_data(config: JudgeConfig, name: str) -> bool:
    return any(m.Name == name and m.MustHaveData for m in config.Metrics)


@dataclass(frozen=True)
class _Carry:
    """What one look hands to the next (same window)."""

    nodata_count: int = 0
    p_high_min: float = 1.0
    p_low_min: float = 1.0


def _metric(
    config: JudgeConfig,
    metric: MetricConfig,
    samples: MetricSamples | None,
    carried: MetricReport | None,
    judgement: bool,
) -> MetricReport:
    carry = _Carry(carried.nodata_count, carried.p_high_min, carried.p_low_min) if carried else _Carry()
    sizes = _sizes(metric, samples)
    if samples is None or min(sizes) < metric.min_samples:
        count = carry.nodata_count + (1 if judgement else 0)
        failed = judgement and count > config.NoDataLimit
        return MetricReport(
            name=metric.Name,
            test=metric.Test,
            verdict=Verdict.NODATA_FAIL if failed else Verdict.NODATA,
            counted=failed,
            critical=failed and metric.Critical,
            control_n=sizes[0],
            experiment_n=sizes[1],
            p_high_min=carry.p_high_min,
            p_low_min=carry.p_low_min,
            nodata_count=count,
            message=f"{min(sizes)} sample(s) on a side, {metric.min_samples} needed",
        )
    if metric.sequential:
        return _sequential(config, metric, samples, carry)
    if not judgement:
        return _pending(metric, samples, carry)
    return _shift(metric, samples, carry)


def _sizes(metric: MetricConfig, samples: MetricSamples | None) -> tuple[int, int]:
    if samples is None:
        return 0, 0
    return _size(metric, samples.control), _size(metric, samples.experiment)


def _size(metric: MetricConfig, sample: Sample) -> int:
    if isinstance(sample, Counts):
        _expect(metric, "SEQUENTIAL_PROPORTION", sample)
        return sample.trials
    if isinstance(sample, Moments):
        _expect(metric, "SEQUENTIAL_MEAN", sample)
        return sample.count
    if metric.Test == "SEQUENTIAL_PROPORTION":
        raise TypeError(f"metric {metric.Name}: SEQUENTIAL_PROPORTION needs Counts, got values")
    return int(as_values(sample).size)


def _expect(metric: MetricConfig, test: str, sample: Sample) -> None:
    if metric.Test != test:
        raise TypeError(f"metric {metric.Name}: {metric.Test} cannot use {type(sample).__name__}")


def _sequential(config: JudgeConfig, metric: MetricConfig, samples: MetricSamples, carry: _Carry) -> MetricReport:
    alpha = config.metric_alpha(metric)
    control, experiment = samples.control, samples.experiment
    if isinstance(control, Counts) and isinstance(experiment, Counts):
        look = proportion_look(control, experiment, alpha=alpha, n_star=config.NStar, margin=metric.Margin)
    else:
        look = mean_look(
            _moments(control), _moments(experiment), alpha=alpha, n_star=config.NStar, margin=metric.Margin
        )
    high_min, low_min = min(carry.p_high_min, look.p_high), min(carry.p_low_min, look.p_low)
    verdict = Verdict.PASS
    if metric.Direction in ("INCREASE", "EITHER") and high_min <= alpha:
        verdict = Verdict.HIGH
    elif metric.Direction in ("DECREASE", "EITHER") and low_min <= alpha:
        verdict = Verdict.LOW
    sides = {"INCREASE": look.p_high, "DECREASE": look.p_low}
    return MetricReport(
        name=metric.Name,
        test=metric.Test,
        verdict=verdict,
        counted=True,
        critical=metric.Critical and verdict is not Verdict.PASS,
        control_n=_size(metric, control),
        experiment_n=_size(metric, experiment),
        control_value=look.control,
        experiment_value=look.experiment,
        estimate=look.delta,
        lower=look.lower,
        upper=look.upper,
        p_value=sides.get(metric.Direction, min(look.p_high, look.p_low)),
        alpha=alpha,
        p_high_min=high_min,
        p_low_min=low_min,
        nodata_count=carry.nodata_count,
        method="mSPRT",
        message=f"difference {look.delta:+.6g}, always-valid {1 - alpha:.1%} sequence "
        f"[{look.lower:.6g}, {look.upper:.6g}], margin {metric.Margin:g}, "
        f"min p high {high_min:.3g} / low {low_min:.3g}",
    )


def _moments(sample: Sample) -> Moments:
    if isinstance(sample, Moments):
        return sample
    if isinstance(sample, Counts):
        raise TypeError("SEQUENTIAL_MEAN cannot use Counts")
    return Moments.of(sample)


def _values(sample: Sample) -> NDArray[np.float64]:
    if isinstance(sample, Counts | Moments):
        raise TypeError(f"MANN_WHITNEY needs raw values, got {type(sample).__name__}")
    return as_values(sample)


def _pending(metric: MetricConfig, samples: MetricSamples, carry: _Carry) -> MetricReport:
    control, experiment = _values(samples.control), _values(samples.experiment)
    return MetricReport(
        name=metric.Name,
        test=metric.Test,
        verdict=Verdict.PENDING,
        counted=False,
        control_n=int(control.size),
        experiment_n=int(experiment.size),
        control_value=float(np.median(control)),
        experiment_value=float(np.median(experiment)),
        nodata_count=carry.nodata_count,
        message="tested at the next judgement point",
    )


def _shift(metric: MetricConfig, samples: MetricSamples, carry: _Carry) -> MetricReport:
    control, experiment = _values(samples.control), _values(samples.experiment)
    result = compare_shift(
        control,
        experiment,
        direction=metric.Direction,
        tolerance=metric.Tolerance,
        confidence=metric.ConfidenceLevel,
        allowed=(metric.AllowedIncrease, metric.AllowedDecrease),
        critical=(metric.CriticalIncrease, metric.CriticalDecrease),
    )
    interval = result.interval
    return MetricReport(
        name=metric.Name,
        test=metric.Test,
        verdict=result.verdict,
        counted=result.verdict is not Verdict.NODATA,
        critical=metric.Critical and result.critical,
        control_n=int(control.size),
        experiment_n=int(experiment.size),
        control_value=float(np.median(control)),
        experiment_value=float(np.median(experiment)),
        estimate=interval.estimate if interval else 0.0,
        lower=_finite(interval.lower) if interval else 0.0,
        upper=_finite(interval.upper) if interval else 0.0,
        bound=result.bound,
        effect=_finite(result.effect),
        p_value=result.p_value,
        nodata_count=carry.nodata_count,
        method=(interval.method if interval else "identical") + (", thinned" if result.thinned else ""),
        message=result.message,
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
