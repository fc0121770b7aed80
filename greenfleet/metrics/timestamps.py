"""Timestamps on the wire: epoch seconds or ISO 8601 in, ISO 8601 (UTC, milliseconds) out."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from greenfleet.errors import ValidationError


def parse_time(value: Any, field: str) -> float:
    """Epoch seconds from a number or an ISO 8601 string (naive times are UTC)."""
    if isinstance(value, bool):
        raise ValidationError(f"{field} must be epoch seconds or an ISO 8601 time")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValidationError(f"{field} must be a finite time (got {value})")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if not math.isfinite(number):
                raise ValidationError(f"{field} must be a finite time (got '{value}')")
            return number
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{field}: '{value}' is not epoch seconds or an ISO 8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise ValidationError(f"{field} must be epoch seconds or an ISO 8601 time")


def iso(ts: float) -> str:
    """2023-11-14T22:13:20.000Z"""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_offset(ts: float) -> str:
    """CloudWatch's StateReasonData form: 2023-11-14T22:13:20.000+0000"""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def short(ts: float) -> str:
    """CloudWatch's StateReason form: 14/11/23 22:13:20"""
    return datetime.fromtimestamp(ts, UTC).strftime("%d/%m/%y %H:%M:%S")
