"""ScheduleExpression as SageMaker documents it for monitoring schedules, and each run's analysis window.

- hourly ``cron(0 * ? * * *)``; daily ``cron(0 H ? * * *)``; every N hours from hour H
  ``cron(0 H/N ? * * *)`` (hours in UTC);
- ``NOW``: one execution right away; ``DataAnalysisStartTime`` and ``DataAnalysisEndTime`` are then
  required, as negative ISO-8601 offsets from the run (``-PT1H``), at most 24 hours apart.

A cron run analyses the hour before its scheduled time unless the offsets say otherwise.

Beyond SageMaker, continuous monitoring: ``rate(N seconds|minutes|hours)`` runs every N units (at least
``GREENFLEET_MONITORING_MIN_INTERVAL_S``, 60 s by default), first right away, each run analysing the
sliding window given by the offsets (default: the last interval)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from greenfleet.errors import ValidationError

HOUR_S = 3600
DAY_S = 24 * HOUR_S
MAX_WINDOW_S = DAY_S
_CRON = re.compile(r"cron\(0 (\*|\d{1,2})(?:/(\d{1,2}))? \? \* \* \*\)")
_RATE = re.compile(r"rate\((\d+) (second|minute|hour)s?\)")
_UNITS = {"second": 1, "minute": 60, "hour": HOUR_S}
_OFFSET = re.compile(r"-P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


@dataclass(frozen=True)
class Rule:
    """A parsed ScheduleExpression: ``hours`` lists the UTC hours it fires at; empty for NOW."""

    expression: str
    hours: tuple[int, ...]
    start_offset_s: float
    end_offset_s: float
    interval_s: float | None = None
    """Continuous monitoring: seconds between runs."""

    @property
    def one_shot(self) -> bool:
        return not self.hours and self.interval_s is None

    @property
    def starts_now(self) -> bool:
        return self.one_shot or self.interval_s is not None

    def next_after(self, t: float) -> float | None:
        """The first scheduled time strictly after ``t`` (None for NOW)."""
        if self.interval_s is not None:
            return t + self.interval_s
        if self.one_shot:
            return None
        hour = int(t // HOUR_S) + 1
        for _ in range(25):
            if hour % 24 in self.hours:
                return float(hour * HOUR_S)
            hour += 1
        return None

    def window(self, scheduled: float) -> tuple[float, float]:
        return scheduled - self.start_offset_s, scheduled - self.end_offset_s


def parse_offset(text: str, field: str) -> float:
    match = _OFFSET.fullmatch(text)
    if not match or not any(match.groups()):
        raise ValidationError(f"{field}: '{text}' is not a negative ISO-8601 duration such as -PT1H")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(days * DAY_S + hours * HOUR_S + minutes * 60 + seconds)


def parse_rule(expression: str, start: str | None = None, end: str | None = None,
               min_interval_s: float = 60.0) -> Rule:
    expression = expression.strip()
    interval: float | None = None
    rate = _RATE.fullmatch(expression)
    if rate:
        interval = float(int(rate.group(1)) * _UNITS[rate.group(2)])
        if interval < min_interval_s:
            raise ValidationError(f"ScheduleConfig.ScheduleExpression: '{expression}': continuous monitoring runs at "
                                  f"most every {min_interval_s:g} seconds")
        hours: tuple[int, ...] = ()
    elif expression == "NOW":
        if start is None or end is None:
            raise ValidationError("ScheduleConfig: a NOW schedule needs DataAnalysisStartTime and DataAnalysisEndTime")
        hours = ()
    else:
        match = _CRON.fullmatch(expression)
        if not match:
            raise ValidationError(
                f"ScheduleConfig.ScheduleExpression: '{expression}' is not supported; use cron(0 * ? * * *) "
                "(hourly), cron(0 H ? * * *) (daily at hour H), cron(0 H/N ? * * *) (every N hours), NOW, "
                "or rate(N seconds|minutes|hours) (continuous)")
        first, every = match.groups()
        if first == "*":
            if every is not None:
                raise ValidationError(f"ScheduleConfig.ScheduleExpression: '{expression}': write H/N with an hour")
            hours = tuple(range(24))
        else:
            step = int(every) if every else 24
            if not 0 <= int(first) <= 23 or not 1 <= step <= 24:
                raise ValidationError(f"ScheduleConfig.ScheduleExpression: '{expression}': hour 0-23, interval 1-24")
            hours = tuple(range(int(first), 24, step))
    default_start = interval or float(HOUR_S)
    start_s = parse_offset(start, "ScheduleConfig.DataAnalysisStartTime") if start is not None else default_start
    end_s = parse_offset(end, "ScheduleConfig.DataAnalysisEndTime") if end is not None else 0.0
    if (start is None) != (end is None):
        raise ValidationError("ScheduleConfig: give both DataAnalysisStartTime and DataAnalysisEndTime, or neither")
    if start_s <= end_s:
        raise ValidationError("ScheduleConfig: DataAnalysisStartTime must be earlier than DataAnalysisEndTime")
    if start_s - end_s > MAX_WINDOW_S:
        raise ValidationError("ScheduleConfig: the analysis window may span at most 24 hours")
    return Rule(expression, hours, start_s, end_s, interval)
