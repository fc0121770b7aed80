"""AlarmService: CloudWatch's metric alarms (PutMetricAlarm, DescribeAlarms, DeleteAlarms,
DescribeAlarmHistory, SetAlarmState, Enable/DisableAlarmActions), their evaluation every second, and the
queries the rollout controller asks (``states``, ``in_alarm_since``).

A transition commits the new state, its history item, its event and its action deliveries in one
transaction; deliveries then run on the event service's threads, so evaluation never waits for a webhook.
SetAlarmState's state lasts, as in CloudWatch, "until the next alarm comparison": here, until the alarm's
next period completes.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine

from greenfleet.alarms import notification
from greenfleet.alarms.actions import SCALING_POLICY, arn_kind, webhook_for
from greenfleet.alarms.evaluation import decide
from greenfleet.alarms.observation import observe, range_end
from greenfleet.alarms.reason import INITIAL_REASON, reason, reason_data
from greenfleet.alarms.repository import AlarmRepository
from greenfleet.alarms.spec import ALARM, INSUFFICIENT_DATA, STATES, AlarmSpec, parse_alarm
from greenfleet.clock import Clock
from greenfleet.errors import ResourceLimitExceeded, ResourceNotFound, ValidationError
from greenfleet.events.service import EventService
from greenfleet.metrics.service import MetricService
from greenfleet.metrics.timestamps import iso, parse_time

log = logging.getLogger("greenfleet.alarms")

DAY = 86400.0
HISTORY_TYPES = ("ConfigurationUpdate", "StateUpdate", "Action")


class AlarmStatus(NamedTuple):
    state: str
    updated_at: float
    reason: str


class Transition(NamedTuple):
    name: str
    old: str
    new: str
    at: float
    reason: str
    event_id: str | None


class _Change(NamedTuple):
    record: AlarmRecord
    spec: AlarmSpec
    new: str
    reason: str
    data: str | None


@dataclass
class AlarmRecord:
    spec: AlarmSpec
    state: str
    reason: str
    reason_data: str | None
    state_updated_at: float
    state_transitioned_at: float
    configuration_updated_at: float
    created_at: float
    actions_enabled: bool
    hold_end: int | None = None  # after SetAlarmState: no comparison until a period ends after this


class AlarmService:
    def __init__(self, engine: Engine, metrics: MetricService, events: EventService, clock: Clock, *,
                 region: str = "us-east-1", account_id: str = "000000000000",
                 history_retention_s: float = 14 * DAY, max_alarms: int = 5000,
                 maintenance_interval_s: float = 60.0, action_webhooks: Mapping[str, str] | None = None) -> None:
        self.repo = AlarmRepository(engine)
        self.strict_periods = False
        """Hold alarm periods to CloudWatch's 10, 20, 30 or a multiple of 60 s (the server sets it)."""
        self.engine = engine
        self.metrics = metrics
        self.events = events
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.history_retention_s = history_retention_s
        self.max_alarms = max_alarms
        self.action_webhooks = dict(action_webhooks or {})  # action ARN → webhook URL
        self.maintenance_interval_s = maintenance_interval_s
        self._next_maintenance = clock.now() + maintenance_interval_s
        self._lock = threading.RLock()
        self._alarms: dict[str, AlarmRecord] = {}
        raw = metrics.store.raw_retention_s
        for row in self.repo.load_all():
            spec = parse_alarm(row.spec, max_raw_range_s=max(raw, 10**9))
            self._alarms[row.name] = AlarmRecord(
                spec, row.state, row.state_reason, row.state_reason_data, row.state_updated_at,
                row.state_transitioned_at, row.configuration_updated_at, row.created_at, row.actions_enabled)
        events.dispatcher.add_listener(self._on_delivery)

    def arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"

    def start(self) -> None:
        """Nothing to start: evaluation is driven by ``evaluate(now)``, deliveries by the event service."""

    def stop(self) -> None:
        """Nothing to stop (see ``start``)."""

    # -- configuration ----------------------------------------------------------------------------------
    def put_alarm(self, body: Mapping[str, Any], name: str | None = None, now: float | None = None) -> dict[str, Any]:
        """PutMetricAlarm: create, or replace the configuration of, an alarm (its state is kept)."""
        now = self.clock.now() if now is None else now
        try:
            spec = parse_alarm(body, name, max_raw_range_s=self.metrics.store.raw_retention_s)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a member of the wrong kind
            raise ValidationError(f"The request is not in PutMetricAlarm's shape: {type(exc).__name__}: {exc}") \
                from None
        if not math.isfinite(spec.threshold):
            raise ValidationError(f"Threshold must be a finite number (got {spec.threshold})")
        if self.strict_periods and spec.period not in (10, 20, 30) and spec.period % 60:
            raise ValidationError(f"The Period {spec.period} is not valid: an alarm's period must be 10, 20, 30 or a "
                                  "multiple of 60 seconds (GREENFLEET_STRICT_DEPLOYMENT_MINIMUMS=false allows any "
                                  "whole number of seconds for local experiments)")
        config = spec.to_dict()
        with self._lock:
            record = self._alarms.get(spec.name)
            if record is None and len(self._alarms) >= self.max_alarms:
                raise ResourceLimitExceeded(f"at most {self.max_alarms} alarms may exist")
            if record is None:
                record = AlarmRecord(spec, INSUFFICIENT_DATA, INITIAL_REASON, None, now, now, now, now,
                                     spec.actions_enabled)
                kind, summary = "Create", f'Alarm "{spec.name}" created'
            else:
                record.spec, record.configuration_updated_at = spec, now
                record.actions_enabled, record.hold_end = spec.actions_enabled, None
                kind, summary = "Update", f'Alarm "{spec.name}" updated'
            values = {"name": spec.name, "spec": config, "actions_enabled": spec.actions_enabled,
                      "state": record.state, "state_reason": record.reason,
                      "state_reason_data": record.reason_data, "state_updated_at": record.state_updated_at,
                      "state_transitioned_at": record.state_transitioned_at,
                      "configuration_updated_at": now, "created_at": record.created_at}
            data = json.dumps({"version": "1.0", "type": kind,
                               ("createdAlarm" if kind == "Create" else "updatedAlarm"): config})
            with self.engine.begin() as conn:
                self.repo.upsert(conn, values, exists=kind == "Update")
                self.repo.add_history(conn, spec.name, now, "ConfigurationUpdate", summary, data)
            self._alarms[spec.name] = record
            return self._describe(record)

    def delete_alarms(self, names: Sequence[str], now: float | None = None) -> list[str]:
        """DeleteAlarms: delete those of ``names`` that exist (CloudWatch says nothing of the others); returns
        the names deleted."""
        now = self.clock.now() if now is None else now
        with self._lock:
            names = [n for n in dict.fromkeys(names) if n in self._alarms]  # CloudWatch ignores unknown names
            with self.engine.begin() as conn:
                for name in names:
                    self.repo.delete(conn, name)
                    self.repo.add_history(conn, name, now, "ConfigurationUpdate", f'Alarm "{name}" deleted',
                                          json.dumps({"version": "1.0", "type": "Delete"}))
            for name in names:
                del self._alarms[name]
        return names

    def set_actions_enabled(self, names: Sequence[str], enabled: bool) -> None:
        """EnableAlarmActions / DisableAlarmActions."""
        with self._lock:
            records = [self._get(name) for name in names]
            with self.engine.begin() as conn:
                self.repo.set_actions_enabled(conn, list(names), enabled)
            for record in records:
                record.actions_enabled = enabled

    # -- reads ------------------------------------------------------------------------------------------
    def _get(self, name: str) -> AlarmRecord:
        record = self._alarms.get(name)
        if record is None:
            raise ResourceNotFound(f"alarm '{name}' does not exist")
        return record

    def _describe(self, record: AlarmRecord) -> dict[str, Any]:
        out = record.spec.to_dict()
        out.update({"AlarmArn": self.arn(record.spec.name), "ActionsEnabled": record.actions_enabled,
                    "AlarmConfigurationUpdatedTimestamp": iso(record.configuration_updated_at),
                    "StateValue": record.state, "StateReason": record.reason,
                    "StateUpdatedTimestamp": iso(record.state_updated_at),
                    "StateTransitionedTimestamp": iso(record.state_transitioned_at)})
        if record.reason_data is not None:
            out["StateReasonData"] = record.reason_data
        return out

    def describe_alarm(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._describe(self._get(name))

    def describe_alarms(self, names: Iterable[str] | None = None, prefix: str | None = None,
                        state: str | None = None, action_prefix: str | None = None) -> list[dict[str, Any]]:
        if state is not None and state not in STATES:
            raise ValidationError(f"StateValue must be one of {', '.join(STATES)}")
        wanted = set(names) if names is not None else None
        with self._lock:
            records = sorted(self._alarms.values(), key=lambda r: r.spec.name)
            return [self._describe(r) for r in records
                    if (wanted is None or r.spec.name in wanted)
                    and (prefix is None or r.spec.name.startswith(prefix))
                    and (state is None or r.state == state)
                    and (action_prefix is None or any(a.startswith(action_prefix) for s in STATES
                                                      for a in r.spec.actions_for(s)))]

    def history(self, name: str | None = None, item_type: str | None = None, start: Any = None,
                end: Any = None, limit: int = 100, descending: bool = True) -> list[dict[str, Any]]:
        """DescribeAlarmHistory (newest first unless ``descending`` is false)."""
        if item_type is not None and item_type not in HISTORY_TYPES:
            raise ValidationError(f"HistoryItemType must be one of {', '.join(HISTORY_TYPES)}")
        rows = self.repo.history(name=name, item_type=item_type,
                                 start=parse_time(start, "StartDate") if start is not None else None,
                                 end=parse_time(end, "EndDate") if end is not None else None,
                                 limit=max(1, min(limit, 1000)), descending=descending)
        return [{"AlarmName": r.alarm_name, "AlarmType": "MetricAlarm", "Timestamp": iso(r.timestamp),
                 "HistoryItemType": r.item_type, "HistorySummary": r.summary, "HistoryData": r.data}
                for r in rows]

    def states(self, names: Iterable[str]) -> dict[str, AlarmStatus]:
        """{name: (state, state updated at, reason)} for the alarms that exist (others are left out)."""
        with self._lock:
            return {n: AlarmStatus(r.state, r.state_updated_at, r.reason)
                    for n in names if (r := self._alarms.get(n)) is not None}

    def latest_value(self, name: str, now: float) -> float | None:
        """The newest datapoint of the alarm's evaluation range at ``now`` (None: no data, no alarm)."""
        with self._lock:
            record = self._alarms.get(name)
        if record is None:
            return None
        points, _low = observe(self.metrics.store, record.spec, range_end(record.spec, now))
        return next((p.value for p in reversed(points) if p.value is not None), None)

    def in_alarm_since(self, names: Iterable[str], since: float) -> dict[str, bool]:
        """Whether each existing alarm was in ALARM at any moment from ``since`` until now."""
        names = list(names)
        current = self.states(names)
        touched = self.repo.touched_state_since(list(current), ALARM, since) if current else set()
        return {n: status.state == ALARM or n in touched for n, status in current.items()}

    # -- state changes ----------------------------------------------------------------------------------
    def set_alarm_state(self, name: str, state: str, state_reason: str, state_reason_data: str | None = None,
                        now: float | None = None) -> None:
        now = self.clock.now() if now is None else now
        if state not in STATES:
            raise ValidationError(f"StateValue must be one of {', '.join(STATES)} (got {state!r})")
        if not isinstance(state_reason, str) or not 0 < len(state_reason) <= 1023:
            raise ValidationError("StateReason must be 1 to 1023 characters")
        if state_reason_data is not None:
            try:
                json.loads(state_reason_data)
            except (TypeError, ValueError):
                raise ValidationError("StateReasonData must be a JSON document (as text)") from None
        with self._lock:
            record = self._get(name)
            self._commit([_Change(record, record.spec, state, state_reason, state_reason_data)], now)
            record.hold_end = range_end(record.spec, now)

    def evaluate(self, now: float) -> list[Transition]:
        """Evaluate every alarm at ``now`` (the control plane's one-second tick, after the metric flush); the
        tick's transitions are committed together."""
        with self._lock:
            records = list(self._alarms.values())
        store = self.metrics.store
        changes = []
        for record in records:
            try:
                change = self._evaluate_one(store, record, now)
            except Exception:
                log.exception("evaluating alarm %s failed", record.spec.name)
                continue
            if change is not None:
                changes.append(change)
        transitions = []
        if changes:
            with self._lock:
                current = [c for c in changes if self._alarms.get(c.spec.name) is c.record
                           and c.record.spec is c.spec and c.record.hold_end is None]
                transitions = self._commit(current, now)
        if now >= self._next_maintenance:
            self._next_maintenance = now + self.maintenance_interval_s
            self.maintain(now)
        return transitions

    def _evaluate_one(self, store: Any, record: AlarmRecord, now: float) -> _Change | None:
        spec = record.spec
        end = range_end(spec, now)
        if record.hold_end is not None:
            if end <= record.hold_end:
                return None
            record.hold_end = None
        points, low = observe(store, spec, end)
        marks = [None if p.value is None else spec.breaches(p.value) for p in points]
        decision = decide(marks, spec.evaluation_periods, spec.datapoints_to_alarm, spec.treat_missing_data)
        if spec.evaluate_low_sample_count_percentile == "ignore" and any(low[i] for i in decision.evaluated):
            return None
        new = decision.state or record.state
        if new == record.state:
            return None
        return _Change(record, spec, new, reason(decision, new, spec, points),
                       reason_data(decision, spec, points, now))

    def _commit(self, changes: Sequence[_Change], now: float) -> list[Transition]:
        """Write state changes (history, events, action deliveries) in one transaction, then apply them."""
        transitions = []
        with self.engine.begin() as conn:
            for change in changes:
                transitions.append(self._write(conn, change, now))
        self.events.wake()
        for change in changes:
            record = change.record
            if change.new != record.state:
                record.state_transitioned_at = now
            record.state, record.reason, record.reason_data = change.new, change.reason, change.data
            record.state_updated_at = now
        return transitions

    def _write(self, conn: Connection, change: _Change, now: float) -> Transition:
        record, spec, new, why, data = change
        old = record.state
        history = {"version": "1.0",
                   "oldState": {"stateValue": old, "stateReason": record.reason},
                   "newState": {"stateValue": new, "stateReason": why,
                                **({"stateReasonData": json.loads(data)} if data else {})}}
        changed = new != old
        self.repo.update_state(conn, spec.name, new, why, data, now, transitioned=changed)
        self.repo.add_history(conn, spec.name, now, "StateUpdate", f"Alarm updated from {old} to {new}",
                              json.dumps(history), old, new)
        if not changed:
            return Transition(spec.name, old, new, now, why, None)
        detail = notification.event_detail(spec, (new, why, data, now),
                                           (old, record.reason, record.reason_data, record.state_updated_at))
        event = self.events.append(notification.SOURCE, notification.DETAIL_TYPE, self.arn(spec.name), detail,
                                   now, connection=conn)
        if record.actions_enabled:
            payload = notification.action_payload(
                spec, self.arn(spec.name), self.account_id, self.region, record.configuration_updated_at,
                old, new, why, data, now, event.id)
            for action in spec.actions_for(new):
                if arn_kind(action) == SCALING_POLICY:
                    continue  # the scaling controller reads the alarm's state (greenfleet.scaling.driver)
                url = webhook_for(action, self.action_webhooks)
                if url is None:
                    self._not_delivered(conn, spec.name, action, event.id, now)
                    continue
                self.events.enqueue_webhook(conn, url, payload, event.id, now, kind="alarm_action",
                                            context={"AlarmName": spec.name, "NewStateValue": new,
                                                     "Action": action})
        return Transition(spec.name, old, new, now, why, event.id)

    def _not_delivered(self, conn: Connection, name: str, action: str, event_id: str, now: float) -> None:
        """An ARN action with no webhook in the settings: recorded in the history as not executed."""
        error = (f"greenfleet runs no {arn_kind(action) or 'AWS service'}; map this ARN to a webhook URL in "
                 "GREENFLEET_ALARM_ACTION_WEBHOOKS to deliver it")
        data = json.dumps({"actionState": "Failed", "notificationResource": action, "stateUpdateTimestamp": iso(now),
                           "error": error, "eventId": event_id})
        self.repo.add_history(conn, name, now, "Action",
                              f'Failed to execute action {action}. Received error: "{error}"', data)

    def _on_delivery(self, delivery: dict[str, Any]) -> None:
        """Record an alarm action's outcome in the alarm's history (Action items)."""
        if delivery.get("Kind") != "alarm_action" or not delivery.get("Context"):
            return
        name = delivery["Context"]["AlarmName"]
        action = delivery["Context"].get("Action", delivery["Url"])
        ok = delivery["Status"] == "delivered"
        summary = f"Successfully executed action {action}" if ok else \
            f"Failed to execute action {action}. Received error: \"{delivery['LastError']}\""
        data = json.dumps({"actionState": "Succeeded" if ok else "Failed", "notificationResource": action,
                           "webhookUrl": delivery["Url"],
                           "stateUpdateTimestamp": delivery["CreatedAt"], "deliveryId": delivery["Id"],
                           "attempts": delivery["Attempts"], "eventId": delivery["DedupId"]})
        now = self.clock.now()
        with self.engine.begin() as conn:
            self.repo.add_history(conn, name, now, "Action", summary, data)

    def maintain(self, now: float) -> None:
        try:
            self.repo.prune_history(now - self.history_retention_s)
            self.events.maintain(now)
        except Exception:
            log.exception("alarm history and event retention failed")


