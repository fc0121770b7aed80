"""``greenfleet webhook list|create|describe|update|delete|deliveries``: the event log's webhook targets
and the record of every delivery (events and alarm actions)."""

from __future__ import annotations

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, fields, table


def pattern(sources: tuple[str, ...], detail_types: tuple[str, ...], resources: tuple[str, ...]) -> Doc | None:
    """An EventPattern from the repeatable options (None when none is given)."""
    chosen = {"source": list(sources), "detail-type": list(detail_types), "resources": list(resources)}
    chosen = {k: v for k, v in chosen.items() if v}
    return chosen or None


def pattern_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option("--resource", "resources", multiple=True, help="Only events about this ARN.")(func)
    func = click.option("--detail-type", "detail_types", multiple=True, help="Only events of this type.")(func)
    return click.option("--source", "sources", multiple=True, help="Only events from this source.")(func)


def render_target(doc: Doc) -> list[tuple[str, object]]:
    return [("Id", doc["Id"]), ("URL", doc["Url"]), ("Pattern", doc.get("EventPattern") or "every event"),
            ("Enabled", doc.get("Enabled")), ("Description", doc.get("Description"))]


@click.group("webhook", short_help="Manage the event log's webhooks and see their deliveries.")
def webhook() -> None:
    """Webhooks: URLs the server POSTs matching events to, at least once."""


@webhook.command("list")
@client_options
def list_(url: str, as_json: bool) -> None:
    """List the webhook targets."""
    with connect(url) as client:
        answer = client.list_event_targets()
    rows = [(t["Id"], t["Url"], t.get("EventPattern") or "*", "yes" if t.get("Enabled") else "no")
            for t in answer.get("Targets", [])]
    emit(answer, as_json, lambda out: out.print(table(["Id", "URL", "Pattern", "Enabled"], rows)))


@webhook.command("create")
@click.argument("target_url", metavar="URL")
@pattern_options
@click.option("--description", help="What it is for.")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@client_options
def create(target_url: str, sources: tuple[str, ...], detail_types: tuple[str, ...], resources: tuple[str, ...],
           description: str | None, disabled: bool, url: str, as_json: bool) -> None:
    """Send the events that match (every event without a filter) to URL."""
    with connect(url) as client:
        answer = client.create_event_target(Url=target_url, EventPattern=pattern(sources, detail_types, resources),
                                            Description=description, Enabled=False if disabled else None)
    done(f"Created webhook {answer['Id']} -> {answer['Url']}", answer, as_json)


@webhook.command("describe")
@click.argument("target_id", metavar="ID")
@client_options
def describe(target_id: str, url: str, as_json: bool) -> None:
    """Show webhook ID."""
    with connect(url) as client:
        answer = client.describe_event_target(TargetId=target_id)
    emit(answer, as_json, lambda out: out.print(fields(render_target(answer))))


@webhook.command("update")
@click.argument("target_id", metavar="ID")
@click.option("--target-url", metavar="URL", help="New URL of the webhook.")
@pattern_options
@click.option("--description", help="New description.")
@click.option("--enable/--disable", "enabled", default=None, help="Turn deliveries on or off.")
@client_options
def update(target_id: str, target_url: str | None, sources: tuple[str, ...], detail_types: tuple[str, ...],
           resources: tuple[str, ...], description: str | None, enabled: bool | None, url: str,
           as_json: bool) -> None:
    """Change webhook ID; what is not given is kept."""
    with connect(url) as client:
        answer = client.update_event_target(TargetId=target_id, Url=target_url,
                                            EventPattern=pattern(sources, detail_types, resources),
                                            Description=description, Enabled=enabled)
    done(f"Updated webhook {answer['Id']}", answer, as_json)


@webhook.command("delete")
@click.argument("target_id", metavar="ID")
@client_options
def delete(target_id: str, url: str, as_json: bool) -> None:
    """Remove webhook ID."""
    with connect(url) as client:
        answer = client.delete_event_target(TargetId=target_id)
    done(f"Deleted webhook {target_id}", answer, as_json)


@webhook.command("deliveries")
@click.option("--status", help="Only deliveries in this status, e.g. failed or pending.")
@click.option("--target", "target_id", metavar="ID", help="Only deliveries to this webhook.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Most shown.")
@client_options
def deliveries(status: str | None, target_id: str | None, limit: int, url: str, as_json: bool) -> None:
    """Webhook deliveries, newest first (events and alarm actions)."""
    with connect(url) as client:
        answer = client.list_deliveries(Status=status, TargetId=target_id, MaxResults=limit)
    rows = [(d["Id"], d["Kind"], d["Url"], d["Status"], d["Attempts"], d.get("LastStatusCode") or "-")
            for d in answer.get("Deliveries", [])]
    emit(answer, as_json,
         lambda out: out.print(table(["Id", "Kind", "URL", "Status", "Attempts", "Last status"], rows)))


def register(cli: click.Group) -> None:
    cli.add_command(webhook)
