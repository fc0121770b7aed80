"""Statistic names (CloudWatch's Statistic and ExtendedStatistic) and how each is computed from an aggregate.

Accepted: SampleCount, Sum, Average, Minimum, Maximum; percentiles ``p0``-``p100`` with up to 10 decimals
(``p99``, ``p99.9``); trimmed means ``tm99`` (= TM(0%:99%)), ``TM(10%:90%)``, ``tm(10%:90%)`` and ``IQM``
(= TM(25%:75%)). Percentiles are exact for two-valued buckets, within the sketch's relative accuracy otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from greenfleet.errors import ValidationError
from greenfleet.metrics.aggregate import Aggregate

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

_NUMBER = r"(\d{1,3}(?:\.\d{1,10})?)"
_PERCENTILE = re.compile(rf"[pP]{_NUMBER}")
_TM_UPPER = re.compile(rf"tm{_NUMBER}")
_TM_RANGE = re.compile(rf"(?:TM|tm)\({_NUMBER}?%:{_NUMBER}?%\)")


@dataclass(frozen=True, slots=True)
class Statistic:
    name: str
    kind: str  # one of BASIC_STATISTICS, "percentile" or "trimmed_mean"
    lower: float = 0.0
    upper: float = 1.0

    @property
    def extended(self) -> bool:
        return self.kind not in BASIC_STATISTICS

    def of(self, agg: Aggregate | None) -> float | None:
        if agg is None or agg.count <= 0:
            return None
        kind = self.kind
        if kind == "Average":
            return agg.total / agg.count
        if kind == "Sum":
            return agg.total
        if kind == "SampleCount":
            return agg.count
        if kind == "Minimum":
            return agg.minimum
        if kind == "Maximum":
            return agg.maximum
        if kind == "percentile":
            return agg.percentile(self.upper)
        return agg.trimmed_mean(self.lower, self.upper)

    def low_sample_count(self, count: float) -> bool:
        """CloudWatch's rule for EvaluateLowSampleCountPercentile: too few samples for percentile q when
        fewer than 10/(1-q) (q ≥ 0.5) or 10/q (q < 0.5)."""
        if self.kind != "percentile":
            return False
        q = self.upper
        if q >= 0.5:
            return q < 1 and count < 10 / (1 - q)
        return q > 0 and count < 10 / q


def _fraction(text: str | None, default: float, field: str, name: str) -> float:
    if text is None:
        return default
    value = float(text)
    if not 0 <= value <= 100:
        raise ValidationError(f"{field}: '{name}' is not a valid statistic: {value} is outside 0-100")
    return value / 100


def parse_statistic(name: object, field: str = "Statistic") -> Statistic:
    """Parse a statistic name, raising ValidationError that names ``field`` when it is not one."""
    if not isinstance(name, str):
        raise ValidationError(f"{field} must be a string")
    if name in BASIC_STATISTICS:
        return Statistic(name, name)
    if name == "IQM":
        return Statistic(name, "trimmed_mean", 0.25, 0.75)
    match = _PERCENTILE.fullmatch(name)
    if match:
        return Statistic(name, "percentile", upper=_fraction(match[1], 1.0, field, name))
    match = _TM_UPPER.fullmatch(name)
    if match:
        return Statistic(name, "trimmed_mean", 0.0, _fraction(match[1], 1.0, field, name))
    match = _TM_RANGE.fullmatch(name)
    if match:
        lower = _fraction(match[1], 0.0, field, name)
        upper = _fraction(match[2], 1.0, field, name)
        if lower >= upper:
            raise ValidationError(f"{field}: '{name}': the lower bound must be below the upper bound")
        return Statistic(name, "trimmed_mean", lower, upper)
    raise ValidationError(
        f"{field}: '{name}' is not a valid statistic; use one of {', '.join(BASIC_STATISTICS)}, "
        "a percentile such as p99 or p99.9, or a trimmed mean such as tm99 or TM(10%:90%)")
