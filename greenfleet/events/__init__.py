"""The durable event log, its webhook targets and at-least-once webhook delivery."""

from greenfleet.events.delivery import Dispatcher
from greenfleet.events.log import Event, EventLog
from greenfleet.events.service import EventService
from greenfleet.events.targets import Target, TargetRegistry

__all__ = ["Dispatcher", "Event", "EventLog", "EventService", "Target", "TargetRegistry"]
