"""CloudWatch's metric alarms: validation, the documented evaluation rules, state, history and actions."""

from greenfleet.alarms.evaluation import Decision, decide
from greenfleet.alarms.prometheus import AlarmCollector
from greenfleet.alarms.service import AlarmService, AlarmStatus, Transition
from greenfleet.alarms.spec import ALARM, INSUFFICIENT_DATA, OK, AlarmSpec, parse_alarm

__all__ = [
    "ALARM",
    "INSUFFICIENT_DATA",
    "OK",
    "AlarmCollector",
    "AlarmService",
    "AlarmSpec",
    "AlarmStatus",
    "Decision",
    "Transition",
    "decide",
    "parse_alarm",
]
