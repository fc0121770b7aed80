"""The judge's configuration, in the PascalCase JSON of the deployment config it sits in
(``DeploymentConfig.GreenfleetRollout.Judge``).

Defaults are Kayenta's NetflixACAJudge where it has one (Tolerance 0.25, ConfidenceLevel 0.98, effect-size
thresholds 1.0, Direction EITHER, Critical and MustHaveData false) and the reference's for the sequential
test (Alpha 0.05 split across the sequential metrics, NStar 5000). Kayenta has no default score thresholds;
75 / 50 are its documentation's example.

Tests:

- MANN_WHITNEY: raw values of blue and green (latency): Hodges-Lehmann shift with a ConfidenceLevel
  interval; HIGH when the interval's lower end is above Tolerance·|shift| (and the mean ratio green/blue is
  at least AllowedIncrease), LOW mirrored. A fixed-horizon test: it only counts at judgement points.
- SEQUENTIAL_PROPORTION: counts (events among trials, e.g. 5xx among invocations); always-valid mSPRT on
  the difference of rates; HIGH when green's rate is above blue's + Margin with always-valid p <= alpha.
- SEQUENTIAL_MEAN: the same on the difference of means (count, mean, variance).

A latency metric that tells a 3x slower green from noise: Direction INCREASE, Critical true,
AllowedIncrease 1.1, CriticalIncrease 1.2-1.5 (A/A: about 0.15 % false HIGH per judgement point with 200+
samples a side, under 1 % over 40 points). Error rates: SEQUENTIAL_PROPORTION, Direction INCREASE, Critical
true, a Margin if a small increase is acceptable.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_MIN_SAMPLES",
    "SEQUENTIAL_TESTS",
    "BaselineName",
    "DirectionName",
    "JudgeConfig",
    "MetricConfig",
    "TestName",
    "judge_problems",
]

TestName = Literal["MANN_WHITNEY", "SEQUENTIAL_PROPORTION", "SEQUENTIAL_MEAN"]
BaselineName = Literal["FRESH", "PRODUCTION"]
"""What green is compared with: FRESH, a copy of blue's config started beside green (same instance counts,
same traffic share while judged, stopped with the deployment); PRODUCTION, blue itself."""
DirectionName = Literal["INCREASE", "DECREASE", "EITHER"]
"""Which change of green against blue is bad: INCREASE flags HIGH only, DECREASE LOW only, EITHER both."""

SEQUENTIAL_TESTS = frozenset({"SEQUENTIAL_PROPORTION", "SEQUENTIAL_MEAN"})
DEFAULT_MIN_SAMPLES = {"MANN_WHITNEY": 50, "SEQUENTIAL_PROPORTION": 200, "SEQUENTIAL_MEAN": 50}
"""Per side. 50 is where Kayenta warns about a small control; rates need more trials."""

Ratio = Annotated[float, Field(gt=0)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class MetricConfig(_Shape):
    Name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    """Key of this metric in the samples and the report."""
    MetricName: Annotated[str, Field(min_length=1, max_length=255)]
    """What the driver collects, e.g. ModelLatency, Invocation5XXErrors, InvocationModelErrors."""
    Namespace: Annotated[str, Field(min_length=1, max_length=255)] = "AWS/SageMaker"
    Test: TestName
    Direction: DirectionName = "EITHER"
    Critical: bool = False
    """A failing critical metric forces the score to 0 (roll back)."""
    MustHaveData: bool = False
    """No data at a judgement point holds the deployment (instead of being left out of the score)."""
    Weight: Annotated[float, Field(gt=0, le=100)] | None = None
    """Share of the score in percent; metrics without one share what the others leave equally."""
    MinSamples: Annotated[int, Field(ge=1)] | None = None
    """Samples (trials for proportions) needed on each side before judging; default DEFAULT_MIN_SAMPLES."""
    Tolerance: Annotated[float, Field(ge=0)] = 0.25
    ConfidenceLevel: Annotated[float, Field(gt=0.5, lt=1)] = 0.98
    AllowedIncrease: Ratio = 1.0
    AllowedDecrease: Ratio = 1.0
    CriticalIncrease: Ratio = 1.0
    CriticalDecrease: Ratio = 1.0
    Margin: Annotated[float, Field(ge=0)] = 0.0
    """Sequential tests: the difference green - blue tolerated before a change counts (same unit as the
    metric: a rate difference for proportions)."""
    Alpha: Annotated[float, Field(gt=0, lt=0.5)] | None = None
    """Sequential tests: this metric's alpha; default the judge's Alpha split evenly (Bonferroni)."""

    @property
    def min_samples(self) -> int:
        return self.MinSamples if self.MinSamples is not None else DEFAULT_MIN_SAMPLES[self.Test]

    @property
    def sequential(self) -> bool:
        return self.Test in SEQUENTIAL_TESTS


class JudgeConfig(_Shape):
    Metrics: Annotated[list[MetricConfig], Field(min_length=1, max_length=20)]
    Alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05
    """False-alarm budget of the sequential metrics together (each gets Alpha / their number)."""
    NStar: Annotated[int, Field(ge=1)] = 5000
    """The mixture's tuning: the sample size at which the confidence sequence is tightest."""
    PassScore: Annotated[float, Field(ge=0, le=100)] = 75.0
    MarginalScore: Annotated[float, Field(ge=0, le=100)] = 50.0
    NoDataLimit: Annotated[int, Field(ge=0)] = 3
    """Judgement points a metric may lack data at; one more and it fails (NODATA_FAIL)."""
    IntervalInSeconds: Annotated[int, Field(ge=1, le=3600)] = 60
    """After a HOLD, the next judgement point comes this much later."""
    Baseline: BaselineName | None = None
    """The control green is judged against (see BaselineName). None: FRESH where the deployment allows one
    (a blue/green plan whose judged steps give green at most 50 % of the traffic, so the baseline can take
    as much) and some judged step gives green less than 50 %; else PRODUCTION (every judged step at 50 %:
    the split is already even). The rollout engine refuses FRESH where it cannot work."""
    WarmUpInSeconds: Annotated[float, Field(ge=0, le=3600)] = 0.0
    """Green's and the control's first seconds after green takes traffic are not judged."""
    WarmUpInvocations: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    """Each side's first invocations after green takes traffic are not judged (whole seconds: the judged
    samples start after the second in which the side reached this many)."""

    def metric_alpha(self, metric: MetricConfig) -> float:
        if metric.Alpha is not None:
            return metric.Alpha
        return self.Alpha / max(1, sum(1 for m in self.Metrics if m.sequential and m.Alpha is None))


def judge_problems(config: JudgeConfig, path: str) -> list[str]:
    """What pydantic cannot check: unique names, MarginalScore <= PassScore, weights within 100 %."""
    problems: list[str] = []
    names = [m.Name for m in config.Metrics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"{path}.Metrics: metric names must be unique, got {', '.join(duplicates)} twice")
    if config.MarginalScore > config.PassScore:
        problems.append(
            f"{path}.MarginalScore: must not exceed PassScore ({config.PassScore:g}), got {config.MarginalScore:g}"
        )
    weights = sum(m.Weight for m in config.Metrics if m.Weight is not None)
    if weights > 100:
        problems.append(f"{path}.Metrics: weights add up to {weights:g}, more than 100")
    return problems
