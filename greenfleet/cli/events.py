"""``greenfleet events``: the event log (alarm transitions, endpoint and deployment changes), optionally
followed as it grows."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from greenfleet.cli.metrics import local_time, parse_duration
from greenfleet.cli.output import Doc, client_options, connect, console, done, emit, table
from greenfleet.client import Client

if TYPE_CHECKING:
    from rich.console import Console

PAGE = 100
SUMMARY_WIDTH = 140


def resource_text(event: Doc) -> str:
    """The resources without the ARN's ``arn:aws:service:region:account:`` head, e.g. ``alarm:my-alarm``."""
    short = [r.split(":", 5)[5] if r.startswith("arn:") and r.count(":") >= 5 else r
             for r in event.get("resources") or []]
    return ", ".join(short) or "-"


def summary(event: Doc) -> str:
    """One line about an event: its state change for the known kinds, else its detail as compact JSON."""
    d = event.get("detail") or {}
    if isinstance(d.get("state"), dict) and isinstance(d.get("previousState"), dict):
        return (f"{d.get('alarmName')}: {d['previousState'].get('value')} -> {d['state'].get('value')}: "
                f"{d['state'].get('reason', '')}")
    if "EndpointStatus" in d:
        text = f"{d.get('EndpointName')}: {d.get('PreviousStatus')} -> {d['EndpointStatus']}"
        return text + (f": {d['FailureReason']}" if d.get("FailureReason") else "")
    if "Phase" in d:
        return f"{d.get('EndpointName')} deployment {d.get('DeploymentId', '')}: {d['Phase']}: {d.get('Message', '')}"
    text = json.dumps(d, separators=(",", ":"), default=str)
    return text if len(text) <= SUMMARY_WIDTH else text[:SUMMARY_WIDTH - 3] + "..."


def row(event: Doc) -> tuple[str, str, str, str]:
    return local_time(event.get("time")), event.get("detail-type", "-"), resource_text(event), summary(event)


def render(events: list[Doc], out: Console) -> None:
    if not events:
        out.print("No events.")
        return
    out.print(table(["Time", "Type", "Resource", "Summary"], [row(e) for e in events]))


def print_lines(events: list[Doc], as_json: bool, out: Console) -> None:
    """Followed events: one JSON object per line with --json, else one line each."""
    from rich import markup

    for event in events:
        if as_json:
            click.echo(json.dumps(event, default=str))
        else:
            out.print(markup.escape("  ".join(row(event))), soft_wrap=True)


def poll_events(client: Client, filters: Doc, after: int | None, interval_s: float,
           on_events: Callable[[list[Doc]], None], polls: int | None = None) -> None:
    """Poll for events newer than sequence number ``after`` and hand each batch to ``on_events``; stop after
    ``polls`` polls (None: never)."""
    done = 0
    while polls is None or done < polls:
        time.sleep(interval_s)
        while True:
            answer = client.list_events(**filters, After=after, MaxResults=PAGE)
            batch = answer.get("Events", [])
            if batch:
                on_events(batch)
                after = answer.get("LastSeq", after)
            if len(batch) < PAGE:
                break
        done += 1


@click.command("events")
@click.option("--source", help="Only events from this source, e.g. aws.cloudwatch.")
@click.option("--detail-type", help="Only events of this type, e.g. 'CloudWatch Alarm State Change'.")
@click.option("--resource", help="Only events about this resource ARN.")
@click.option("--since", help="Only events from the last 30s, 15m, 1h, 2d, ...")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many of the latest events to show.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they come (Ctrl-C stops).")
@click.option("--interval", "interval_s", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between polls with --follow.")
@client_options
def events(source: str | None, detail_type: str | None, resource: str | None, since: str | None, limit: int,
           follow: bool, interval_s: float, url: str, as_json: bool) -> None:
    """The latest events, oldest first: alarm state changes, endpoint status changes, deployment steps."""
    filters: Doc = {"Source": source, "DetailType": detail_type, "Resource": resource,
                    "StartTime": time.time() - parse_duration(since) if since else None}
    with connect(url) as client:
        answer = client.list_events(**filters, MaxResults=limit, ScanBy="TimestampDescending")
        latest = list(reversed(answer.get("Events", [])))
        if not follow:
            emit({**answer, "Events": latest}, as_json, lambda out: render(latest, out))
            return
        out = console()
        print_lines(latest, as_json, out)
        try:
            poll_events(client, filters, answer.get("LastSeq"), interval_s,
                        lambda batch: print_lines(batch, as_json, out))
        except KeyboardInterrupt:
            return


@click.group("event", short_help="Show one event of the log, or append one.")
def event() -> None:
    """One event of the event log (``greenfleet events`` lists them)."""


@event.command("get")
@click.argument("event_id", metavar="ID")
@client_options
def get(event_id: str, url: str, as_json: bool) -> None:
    """Show event ID in EventBridge's envelope."""
    with connect(url) as client:
        answer = client.get_event(EventId=event_id)
    emit(answer, as_json, lambda out: render([answer], out))


@event.command("put")
@click.option("--source", required=True, help="Where it comes from, e.g. my.pipeline.")
@click.option("--detail-type", required=True, help="What kind of event, e.g. 'Model Approved'.")
@click.option("--detail", default="{}", show_default=True, metavar="JSON", help="The event's detail, an object.")
@click.option("--resource", help="The ARN the event is about.")
@client_options
def put(source: str, detail_type: str, detail: str, resource: str | None, url: str, as_json: bool) -> None:
    """Append an event to the log (its webhooks receive it like any other)."""
    try:
        parsed = json.loads(detail)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--detail") from exc
    with connect(url) as client:
        answer = client.put_event(Source=source, DetailType=detail_type, Detail=parsed, Resource=resource)
    done(f"Put event {answer['id']} (seq {answer['seq']})", answer, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(events)
    cli.add_command(event)
