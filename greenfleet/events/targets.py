"""Webhook targets of the event log (the role of EventBridge rules with an HTTP target): a URL and a
pattern. A pattern matches like a small EventBridge pattern: each of its keys ``source``, ``detail-type``
and ``resources`` lists accepted values, and an event matches when every key present accepts it (for
``resources``, any of the event's resources). ``detail`` maps top-level detail members to accepted values
(EventBridge's ``{"detail": {"ModelApprovalStatus": ["Approved", "Rejected"]}}``). The empty pattern
matches every event.

A target may have a ``Secret``: each delivery to it then carries ``X-Greenfleet-Signature:
sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the secret>`` (the secret is never shown back;
``Signed`` says whether one is set)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, delete, select, update

from greenfleet.errors import ResourceNotFound, ValidationError
from greenfleet.events.log import Event
from greenfleet.events.tables import event_targets
from greenfleet.metrics.timestamps import iso

PATTERN_KEYS = ("source", "detail-type", "resources", "detail")
Pattern = dict[str, Any]
MAX_TARGETS = 100


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    url: str
    pattern: Pattern
    description: str | None
    enabled: bool
    created_at: float
    updated_at: float
    secret: str | None = None

    def matches(self, event: Event) -> bool:
        if not self.enabled:
            return False
        pattern = self.pattern
        if "source" in pattern and event.source not in pattern["source"]:
            return False
        if "detail-type" in pattern and event.detail_type not in pattern["detail-type"]:
            return False
        if "resources" in pattern and event.resource not in pattern["resources"]:
            return False
        return all(event.detail.get(key) in accepted for key, accepted in pattern.get("detail", {}).items())

    def to_dict(self) -> dict[str, Any]:
        return {"Id": self.id, "Url": self.url, "EventPattern": self.pattern, "Description": self.description,
                "Enabled": self.enabled, "CreatedAt": iso(self.created_at), "UpdatedAt": iso(self.updated_at),
                "Signed": self.secret is not None}


def check_url(value: Any, field: str = "Url") -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 2048:
        raise ValidationError(f"{field}: '{value}' is not an http(s) URL of at most 2048 characters")
    return str(value)


def check_pattern(value: Any, field: str = "EventPattern") -> Pattern:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be an object with any of {', '.join(PATTERN_KEYS)}")
    unknown = set(value) - set(PATTERN_KEYS)
    if unknown:
        raise ValidationError(f"{field}: unsupported key(s) {', '.join(sorted(unknown))}; use "
                              f"{', '.join(PATTERN_KEYS)}")
    pattern: Pattern = {}
    for key, accepted in value.items():
        if key == "detail":
            pattern[key] = _detail_pattern(accepted, f"{field}.detail")
            continue
        if not isinstance(accepted, list) or not accepted or not all(isinstance(a, str) for a in accepted):
            raise ValidationError(f"{field}.{key} must be a non-empty list of strings")
        pattern[key] = list(accepted)
    return pattern


def check_secret(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 16 <= len(value) <= 256:
        raise ValidationError("Secret must be a string of 16 to 256 characters")
    return value


def _detail_pattern(value: Any, field: str) -> dict[str, list[Any]]:
    if not isinstance(value, Mapping) or not value:
        raise ValidationError(f"{field} must be a non-empty object of detail member → list of accepted values")
    for key, accepted in value.items():
        if not isinstance(accepted, list) or not accepted or not all(
                isinstance(a, str | int | float | bool) for a in accepted):
            raise ValidationError(f"{field}.{key} must be a non-empty list of strings or numbers")
    return {str(k): list(v) for k, v in value.items()}


def _target(row: Any) -> Target:
    return Target(row.id, row.url, dict(row.pattern), row.description, bool(row.enabled), row.created_at,
                  row.updated_at, row.secret)


class TargetRegistry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._cache: list[Target] = self._load()

    def _load(self) -> list[Target]:
        with self.engine.connect() as conn:
            return [_target(row) for row in conn.execute(
                select(event_targets).order_by(event_targets.c.created_at, event_targets.c.id))]

    def _refresh(self) -> None:
        targets = self._load()
        with self._lock:
            self._cache = targets

    def matching(self, event: Event) -> list[Target]:
        with self._lock:
            return [t for t in self._cache if t.matches(event)]

    def all(self) -> list[Target]:
        with self._lock:
            return list(self._cache)

    def secret(self, target_id: str) -> str | None:
        """The signing secret of a target (None: unsigned, or the target is gone)."""
        return next((t.secret for t in self.all() if t.id == target_id), None)

    def get(self, target_id: str) -> Target:
        for target in self.all():
            if target.id == target_id:
                return target
        raise ResourceNotFound(f"event target '{target_id}' does not exist")

    def create(self, body: Mapping[str, Any], now: float) -> Target:
        if not isinstance(body, Mapping):
            raise ValidationError("the request must be an object with Url and EventPattern")
        if len(self.all()) >= MAX_TARGETS:
            raise ValidationError(f"at most {MAX_TARGETS} event targets may be registered")
        description = body.get("Description")
        if description is not None and not isinstance(description, str):
            raise ValidationError("Description must be a string")
        target = Target(str(uuid.uuid4()), check_url(body.get("Url")), check_pattern(body.get("EventPattern")),
                        description, bool(body.get("Enabled", True)), now, now, check_secret(body.get("Secret")))
        with self.engine.begin() as conn:
            conn.execute(event_targets.insert().values(
                id=target.id, url=target.url, pattern=target.pattern, description=target.description,
                enabled=target.enabled, created_at=now, updated_at=now, secret=target.secret))
        self._refresh()
        return target

    def update(self, target_id: str, body: Mapping[str, Any], now: float) -> Target:
        current = self.get(target_id)
        values: dict[str, Any] = {"updated_at": now}
        if "Url" in body:
            values["url"] = check_url(body["Url"])
        if "EventPattern" in body:
            values["pattern"] = check_pattern(body["EventPattern"])
        if "Enabled" in body:
            if not isinstance(body["Enabled"], bool):
                raise ValidationError("Enabled must be true or false")
            values["enabled"] = body["Enabled"]
        if "Description" in body:
            values["description"] = body["Description"]
        if "Secret" in body:
            values["secret"] = check_secret(body["Secret"])
        with self.engine.begin() as conn:
            conn.execute(update(event_targets).where(event_targets.c.id == current.id).values(**values))
        self._refresh()
        return self.get(target_id)

    def delete(self, target_id: str) -> None:
        self.get(target_id)
        with self.engine.begin() as conn:
            conn.execute(delete(event_targets).where(event_targets.c.id == target_id))
        self._refresh()
