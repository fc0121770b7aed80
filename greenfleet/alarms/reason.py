"""StateReason (a sentence, in CloudWatch's style) and StateReasonData (JSON text, in CloudWatch's shape)
for the outcome of an evaluation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from greenfleet.alarms.evaluation import Decision
from greenfleet.alarms.spec import ALARM, COMPARISONS, OK, AlarmSpec
from greenfleet.metrics.timestamps import iso_offset, short

INITIAL_REASON = "Unchecked: Initial alarm creation"


class Point(NamedTuple):
    ts: int
    value: float | None
    sample_count: float | None


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _listing(points: Sequence[Point]) -> str:
    return ", ".join(f"{p.value!r} ({short(p.ts)})" for p in reversed(points))


def _treated(decision: Decision, treat: str) -> str:
    label = "Breaching" if treat == "breaching" else "NonBreaching"
    verb = "was" if decision.filled == 1 else "were"
    return f"{_n(decision.filled, 'missing datapoint')} {verb} treated as [{label}]"


def reason(decision: Decision, state: str, spec: AlarmSpec, points: Sequence[Point]) -> str:
    op = COMPARISONS[spec.comparison][1]
    threshold = f"the threshold ({spec.threshold!r})"
    n, m = spec.evaluation_periods, spec.datapoints_to_alarm
    evaluated = [points[i] for i in decision.evaluated]
    breaching = [p for p in evaluated if p.value is not None and spec.breaches(p.value)]
    if state not in (OK, ALARM):
        if decision.rule == "no_data" or not evaluated:
            return f"Insufficient Data: {_n(len(points), 'datapoint')} {'was' if len(points) == 1 else 'were'} " \
                   "unknown."
        return (f"Insufficient Data: {len(breaching)} out of the last {n} datapoints [{_listing(breaching)}] "
                f"{'was' if len(breaching) == 1 else 'were'} {op} {threshold}, fewer than the {m} needed, and "
                f"{_n(n - len(evaluated), 'datapoint')} {'was' if n - len(evaluated) == 1 else 'were'} unknown.")
    if decision.filled and not evaluated:
        return (f"Threshold Crossed: no datapoints were received for {_n(n, 'period')} and "
                f"{_treated(decision, spec.treat_missing_data)}.")
    if decision.rule == "aged_breach":
        first = evaluated[0]
        age = len(points) - decision.evaluated[0]
        return (f"Threshold Crossed: 1 datapoint [{_listing([first])}] was {op} {threshold} and no datapoint "
                f"was received in the {_n(age - 1, 'period')} after it (missing data treated as missing: "
                f"a breaching datapoint at least {_n(m, 'period')} old with nothing newer is ALARM).")
    chosen = breaching if state == ALARM else [p for p in evaluated if p not in breaching]
    negation = "" if state == ALARM else "not "
    filled = f" and {_treated(decision, spec.treat_missing_data)}" if decision.filled else ""
    if n == 1 and not decision.filled:
        return f"Threshold Crossed: 1 datapoint [{_listing(chosen)}] was {negation}{op} {threshold}."
    needed = m if state == ALARM else n - m + 1
    transition = "OK -> ALARM" if state == ALARM else "ALARM -> OK"
    return (f"Threshold Crossed: {len(chosen)} out of the last {n} datapoints [{_listing(chosen)}] "
            f"{'was' if len(chosen) == 1 else 'were'} {negation}{op} {threshold}{filled} "
            f"(minimum {_n(needed, 'datapoint')} for {transition} transition).")


def reason_data(decision: Decision, spec: AlarmSpec, points: Sequence[Point], now: float) -> str:
    evaluated = [points[i] for i in decision.evaluated]
    data: dict[str, Any] = {"version": "1.0", "queryDate": iso_offset(now),
                            "startDate": iso_offset(evaluated[0].ts if evaluated else points[0].ts if points
                                                    else now)}
    if spec.metric is not None:
        data["statistic"] = spec.metric.stat.name
    data.update({"period": spec.period, "recentDatapoints": [p.value for p in evaluated],
                 "threshold": spec.threshold})
    items: list[dict[str, Any]] = []
    for p in evaluated:
        item: dict[str, Any] = {"timestamp": iso_offset(p.ts)}
        if p.sample_count is not None:
            item["sampleCount"] = p.sample_count
        item["value"] = p.value
        items.append(item)
    missing = [p for p in points if p.value is None][-decision.filled:] if decision.filled else []
    items.extend({"timestamp": iso_offset(p.ts)} for p in missing)
    items.sort(key=lambda item: item["timestamp"], reverse=True)
    data["evaluatedDatapoints"] = items
    return json.dumps(data, separators=(",", ":"))
