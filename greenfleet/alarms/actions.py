"""An alarm action as PutMetricAlarm takes it: an http(s) webhook URL (greenfleet's own), or one of
CloudWatch's action ARNs — an Application Auto Scaling policy (run here, by the scaling
controller), an SNS topic, a Lambda function, a Systems Manager OpsItem or Incident Manager
response plan, an EC2 action (``arn:aws:automate:<region>:ec2:stop|terminate|reboot|recover``).

greenfleet runs none of AWS's services: an ARN action is delivered as a webhook when the settings map that
ARN to a URL (``GREENFLEET_ALARM_ACTION_WEBHOOKS``); otherwise the alarm's history records it as not
executed, each time it is due.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from greenfleet.errors import ValidationError
from greenfleet.metrics.errors import validation

MAX_LENGTH = 1024
_PARTITION = r"arn:aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_ACCOUNT = r"\d{12}"
SCALING_POLICY = "Application Auto Scaling policy"
"""Run by greenfleet itself: the scaling controller acts on the alarm's state (greenfleet.scaling)."""
ARN_KINDS: dict[str, re.Pattern[str]] = {
    "SNS topic": re.compile(rf"{_PARTITION}:sns:{_REGION}:{_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}(?:\.fifo)?"),
    "Lambda function": re.compile(
        rf"{_PARTITION}:lambda:{_REGION}:{_ACCOUNT}:function:[A-Za-z0-9_-]{{1,64}}(?::(?:\$LATEST|[A-Za-z0-9_-]+))?"),
    "Systems Manager OpsItem": re.compile(
        rf"{_PARTITION}:ssm:{_REGION}:{_ACCOUNT}:opsitem:[1-4](?:#CATEGORY=[A-Za-z]+)?"),
    "Incident Manager response plan": re.compile(
        rf"{_PARTITION}:ssm-incidents::{_ACCOUNT}:response-plan/[A-Za-z0-9_-]{{1,200}}"),
    "EC2 action": re.compile(rf"{_PARTITION}:automate:{_REGION}:ec2:(?:stop|terminate|reboot|recover)"),
    SCALING_POLICY: re.compile(rf"{_PARTITION}:autoscaling:{_REGION}:{_ACCOUNT}:scalingPolicy:[0-9a-f-]{{36}}:"
                               r"resource/[a-z-]+/.+:policyName/.+"),
}


def is_webhook(action: str) -> bool:
    parts = urlsplit(action)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def arn_kind(action: str) -> str | None:
    """What a well-formed action ARN names ("SNS topic", ...), or None."""
    return next((kind for kind, pattern in ARN_KINDS.items() if pattern.fullmatch(action)), None)


def check_action(action: object, field: str) -> str:
    """One action, validated: a webhook URL or a well-formed action ARN, at most 1024 characters."""
    if not isinstance(action, str) or not action or len(action) > MAX_LENGTH:
        raise ValidationError(f"{field}: an action is a webhook URL or an action ARN of 1 to {MAX_LENGTH} "
                              "characters")
    if is_webhook(action):
        return action
    if action.startswith("arn:"):
        if arn_kind(action) is None:
            raise validation(f"Invalid arn syntax: {action}")
        return action
    raise ValidationError(f"{field}: '{action}' is neither an http(s) webhook URL nor an action ARN (SNS topic, "
                          "Lambda function, Systems Manager OpsItem or response plan, EC2 action)")


def check_webhook_table(table: Mapping[str, str]) -> dict[str, str]:
    """The settings' ARN → webhook URL table, each key a well-formed action ARN and each value a URL."""
    for arn, url in table.items():
        if arn_kind(arn) is None:
            raise ValueError(f"alarm_action_webhooks: '{arn}' is not an action ARN (SNS topic, Lambda function, "
                             "Systems Manager OpsItem or response plan, EC2 action)")
        if not is_webhook(url):
            raise ValueError(f"alarm_action_webhooks: '{url}' (for {arn}) is not an http(s) URL")
    return dict(table)


def webhook_for(action: str, table: Mapping[str, str]) -> str | None:
    """Where an action is delivered: a webhook URL is its own target, an ARN its URL in the table."""
    return action if is_webhook(action) else table.get(action)
