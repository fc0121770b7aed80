"""``greenfleet tag add|list|delete``: SageMaker's AddTags, ListTags and DeleteTags on a resource's ARN."""

from __future__ import annotations

import click

from greenfleet.cli.output import client_options, connect, done, emit, table, tag_list


@click.group("tag", short_help="Add, list and delete the tags of a resource (by ARN).")
def tag() -> None:
    """Tags: key/value pairs on a resource, addressed by its ARN."""


@tag.command("add")
@click.argument("arn")
@click.option("--tag", "tags", multiple=True, required=True, metavar="K=V", help="Tag (repeatable).")
@client_options
def add(arn: str, tags: tuple[str, ...], url: str, as_json: bool) -> None:
    """Add (or overwrite) tags on resource ARN."""
    with connect(url) as client:
        answer = client.add_tags(ResourceArn=arn, Tags=tag_list(tags))
    done(f"Tagged {arn}", answer, as_json)


@tag.command("list")
@click.argument("arn")
@client_options
def list_(arn: str, url: str, as_json: bool) -> None:
    """List the tags of resource ARN."""
    with connect(url) as client:
        items = list(client.paginate(client.list_tags, "Tags", ResourceArn=arn))
    emit({"Tags": items}, as_json,
         lambda out: out.print(table(["Key", "Value"], [(t["Key"], t["Value"]) for t in items])))


@tag.command("delete")
@click.argument("arn")
@click.option("--key", "keys", multiple=True, required=True, help="Tag key to remove (repeatable).")
@client_options
def delete(arn: str, keys: tuple[str, ...], url: str, as_json: bool) -> None:
    """Remove tags from resource ARN by key."""
    with connect(url) as client:
        answer = client.delete_tags(ResourceArn=arn, TagKeys=list(keys))
    done(f"Removed {len(keys)} tag(s) from {arn}", answer, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(tag)
