"""What the judge reports, per metric and overall. Persisted in the rollout state (snake_case JSON, like it),
so a restarted controller resumes with the running minima and no-data counts, and shown by describe.

Non-finite figures (an unbounded interval) are stored as None.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["Decision", "JudgeReport", "MetricReport", "ScoreClass", "Verdict"]


class Verdict(StrEnum):
    PASS = "PASS"  # no change beyond the tolerance / margin (or not significant)
    HIGH = "HIGH"  # green is higher than blue (bad when Direction is INCREASE or EITHER)
    LOW = "LOW"  # green is lower than blue (bad when Direction is DECREASE or EITHER)
    NODATA = "NODATA"  # fewer samples than MinSamples on a side: neither pass nor fail
    NODATA_FAIL = "NODATA_FAIL"  # no data at more judgement points than NoDataLimit: counts as a failure
    PENDING = "PENDING"  # a fixed-horizon test (Mann-Whitney) at an interim look: judged at the next point


FAILING = frozenset({Verdict.HIGH, Verdict.LOW, Verdict.NODATA_FAIL})


class ScoreClass(StrEnum):
    PASS = "PASS"  # score >= PassScore
    MARGINAL = "MARGINAL"  # MarginalScore <= score < PassScore
    FAIL = "FAIL"  # score < MarginalScore, or a critical metric failed


class Decision(StrEnum):
    CONTINUE = "CONTINUE"  # go on to the next step
    HOLD = "HOLD"  # keep the current traffic split and judge again after IntervalInSeconds
    ROLLBACK = "ROLLBACK"  # roll back now


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricReport(_Record):
    name: str
    test: str
    verdict: Verdict
    counted: bool
    """Part of this report's score: False for PENDING and NODATA."""
    critical: bool = False
    """A critical metric failing: the score is forced to 0."""
    control_n: int = 0
    experiment_n: int = 0
    control_value: float | None = None
    """The control's (the fresh baseline, or blue) median (Mann-Whitney), rate or mean."""
    experiment_value: float | None = None
    estimate: float | None = None
    """Green - blue: the Hodges-Lehmann shift, or the difference of rates / means."""
    lower: float | None = None
    """Interval (Mann-Whitney, at ConfidenceLevel) or always-valid confidence sequence (at alpha)."""
    upper: float | None = None
    bound: float | None = None
    """Mann-Whitney: Tolerance·|estimate|, what the interval must clear."""
    effect: float | None = None
    """Mean ratio green / blue (Mann-Whitney's effect size)."""
    p_value: float | None = None
    """Mann-Whitney: two-sided p (scipy). Sequential: the always-valid p of this look (worse side)."""
    alpha: float | None = None
    p_high_min: float = 1.0
    """Sequential: running minimum of the always-valid p that green is higher by more than the margin."""
    p_low_min: float = 1.0
    nodata_count: int = 0
    """Judgement points this metric lacked data at, in this window."""
    method: str = ""
    message: str = ""


class JudgeReport(_Record):
    at: float
    window_start: float
    """Start of the judged window (the samples are from window_start to at)."""
    judgement: bool
    """A judgement point (every metric counts, no-data counted) or an interim look (only always-valid
    metrics can roll back; CONTINUE only means no objection yet)."""
    metrics: tuple[MetricReport, ...]
    score: float | None
    classification: ScoreClass | None
    decision: Decision
    reason: str
    compared: str = ""
    """Which fleets were compared, e.g. "green cfg-b (fleet 2) vs baseline: a fresh copy of cfg-a (fleet 3)"."""
    excluded: tuple[str, ...] = ()
    """Samples left out of this look and why (warm-up), one sentence per side."""

    def metric(self, name: str) -> MetricReport | None:
        return next((m for m in self.metrics if m.name == name), None)
