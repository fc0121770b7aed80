"""Schedule expressions and the pure scheduler, tick by tick with a fake clock."""

from __future__ import annotations

import calendar

import pytest

from greenfleet.clock import FakeClock
from greenfleet.errors import ValidationError
from greenfleet.monitoring.schedule import parse_rule
from greenfleet.monitoring.scheduler import SCHEDULED, STOPPED, ScheduleState, first_run, step

T0 = float(calendar.timegm((2026, 12, 3, 10, 20, 0)))
HOUR = 3600.0


def at(hour: int, day: int = 3) -> float:
    return float(calendar.timegm((2026, 12, day, hour, 0, 0)))


def test_hourly_runs_each_hour_on_the_previous_hour() -> None:
    rule = parse_rule("cron(0 * ? * * *)")
    clock = FakeClock(T0)
    state = ScheduleState("s", SCHEDULED, rule, first_run(rule, clock.now()))
    state, actions = step(state, clock.now())
    assert actions == [] and state.next_run_at == at(11)
    state, actions = step(state, clock.advance(40 * 60))
    assert [(a.scheduled_time, a.window_start, a.window_end) for a in actions] == [(at(11), at(10), at(11))]
    assert state.next_run_at == at(12)
    assert step(state, clock.advance(60))[1] == []


def test_daily_and_every_n_hours() -> None:
    assert parse_rule("cron(0 17 ? * * *)").hours == (17,)
    assert parse_rule("cron(0 5/12 ? * * *)").hours == (5, 17)
    daily = parse_rule("cron(0 17 ? * * *)")
    assert daily.next_after(T0) == at(17) and daily.next_after(at(17)) == at(17, day=4)


def test_missed_runs_are_not_backfilled_and_stopped_does_nothing() -> None:
    rule = parse_rule("cron(0 * ? * * *)")
    state = ScheduleState("s", SCHEDULED, rule, at(11))
    state, actions = step(state, at(15) + 30)
    assert [a.scheduled_time for a in actions] == [at(15)] and state.next_run_at == at(16)
    stopped = ScheduleState("s", STOPPED, rule, at(11))
    assert step(stopped, at(15)) == (stopped, [])


def test_now_runs_once_over_its_offsets() -> None:
    rule = parse_rule("NOW", "-PT2H", "-PT5M")
    state = ScheduleState("s", SCHEDULED, rule, first_run(rule, T0))
    state, actions = step(state, T0 + 1)
    assert [(a.window_start, a.window_end) for a in actions] == [(T0 - 2 * HOUR, T0 - 300)]
    assert actions[0].execution_id == f"s-{int(T0 * 1000)}"
    assert state.next_run_at is None and step(state, T0 + 10 * HOUR)[1] == []


@pytest.mark.parametrize(("expression", "start", "end", "message"), [
    ("cron(0 * * * * *)", None, None, "is not supported"),
    ("rate(1 fortnight)", None, None, "is not supported"),
    ("rate(30 seconds)", None, None, "at most every 60 seconds"),
    ("cron(0 25 ? * * *)", None, None, "hour 0-23"),
    ("NOW", None, None, "needs DataAnalysisStartTime"),
    ("NOW", "-PT1H", "-PT2H", "must be earlier"),
    ("NOW", "-PT25H", "-PT0H", "at most 24 hours"),
    ("NOW", "PT1H", "-PT0H", "negative ISO-8601"),
])
def test_invalid_expressions_are_refused(expression: str, start: str | None, end: str | None, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_rule(expression, start, end)
    assert message in info.value.message


def test_continuous_rate_runs_now_then_every_interval_over_a_sliding_window() -> None:
    rule = parse_rule("rate(2 minutes)", "-PT10M", "-PT0S")
    assert rule.interval_s == 120 and parse_rule("rate(1 hour)").start_offset_s == HOUR
    clock = FakeClock(T0)
    state = ScheduleState("c", SCHEDULED, rule, first_run(rule, clock.now()))
    state, actions = step(state, clock.now())
    assert [(a.window_start, a.window_end) for a in actions] == [(T0 - 600, T0)]
    assert step(state, clock.advance(119))[1] == []
    state, actions = step(state, clock.advance(1))
    assert [a.scheduled_time for a in actions] == [T0 + 120] and state.next_run_at == T0 + 240
    assert parse_rule("rate(5 seconds)", min_interval_s=1).interval_s == 5
    waiting = step(state, clock.advance(500), busy=True)
    assert waiting == (state, [])
    state, actions = step(state, clock.now())
    assert [a.scheduled_time for a in actions] == [T0 + 600]  # the latest due time, once free
