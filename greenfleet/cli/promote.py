"""``greenfleet promote`` (copy an Approved version from one greenfleet server to another) and
``greenfleet registry evidence …`` (check results recorded on a version, which a server can require
before it accepts an approval)."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, fields, parse_pairs, table, when

if TYPE_CHECKING:  # rich is imported where it draws
    from rich.console import Console


def _by(value: str | None) -> str:
    return value or getpass.getuser()


@click.command("promote")
@click.argument("group_version", metavar="GROUP/VERSION")
@click.option("--from", "source_url", required=True, help="Base URL of the server holding the Approved version.")
@click.option("--to", "target_url", required=True, help="Base URL of the server that receives the copy.")
@click.option("--from-token", envvar="GREENFLEET_API_TOKEN", help="Bearer token of the source (GREENFLEET_API_TOKEN).")
@click.option("--to-token", envvar="GREENFLEET_API_TOKEN", help="Bearer token of the target (GREENFLEET_API_TOKEN).")
@click.option("--group", "target_group", help="Group name on the target (default: the source's).")
@click.option("--by", help="Who promotes, for the target's audit trail (default: your user name).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def promote_command(group_version: str, source_url: str, target_url: str, from_token: str | None,
                    to_token: str | None, target_group: str | None, by: str | None, as_json: bool) -> None:
    """Copy GROUP/VERSION, Approved on --from, to --to: its model.tar.gz (sha256 checked on arrival),
    lineage, metadata, metrics and evidence. The copy arrives PendingManualApproval with where it came
    from recorded; promoting the same version again returns the same copy."""
    from greenfleet.client import Client
    from greenfleet.registry.promotion import PromotionRefused, promote

    if "/" not in group_version:
        raise click.BadParameter(f"expected GROUP/VERSION or an ARN, got {group_version!r}")
    with Client(source_url, token=from_token) as source, Client(target_url, token=to_token) as target:
        try:
            answer = promote(source, target, group_version, _by(by), target_group)
        except PromotionRefused as exc:
            raise click.ClickException(f"promotion refused: {exc}") from exc
    if as_json:
        emit({k: answer[k] for k in ("ModelPackageArn", "SourceModelPackageArn", "ArtifactDigest", "Created")},
             True, lambda _out: None)
        return
    verb = "Promoted" if answer["Created"] else "Already promoted"
    click.echo(f"{verb} {answer['SourceModelPackageArn']} ({source_url}) to {answer['ModelPackageArn']} "
               f"({target_url}), PendingManualApproval; sha256 {answer['ArtifactDigest']}")


@click.group("evidence")
def evidence() -> None:
    """Check results on a version (integration, load, ...), kept in the audit trail and carried by
    promote; GREENFLEET_REGISTRY_REQUIRED_EVIDENCE on a server makes approval wait for them."""


@evidence.command("add")
@click.argument("name", metavar="GROUP/VERSION")
@click.option("--check", required=True, help="The check's name, e.g. integration or load.")
@click.option("--status", required=True, type=click.Choice(["Passed", "Failed"]))
@click.option("--detail", multiple=True, metavar="K=V", help="What the check measured (repeatable).")
@click.option("--report-url", "report_url", help="Where the check's full report is.")
@click.option("--by", help="Who records it, for the audit trail (default: your user name).")
@client_options
def evidence_add(name: str, check: str, status: str, detail: tuple[str, ...], report_url: str | None,
                 by: str | None, url: str, as_json: bool) -> None:
    """Record one check result on GROUP/VERSION."""
    params: Doc = {"Check": check, "Status": status}
    if detail:
        params["Detail"] = parse_pairs(detail, "--detail")
    if report_url:
        params["Url"] = report_url
    with connect(url) as client:
        answer = client.put_model_package_evidence(ModelPackageName=name, by=_by(by), **params)
    done(f"{name}: {check} {status} (audit entry {answer['Sequence']})", answer, as_json)


@evidence.command("list")
@click.argument("name", metavar="GROUP/VERSION")
@client_options
def evidence_list(name: str, url: str, as_json: bool) -> None:
    """GROUP/VERSION's check results (oldest first) and what this server requires before approval."""
    with connect(url) as client:
        doc = client.list_model_package_evidence(ModelPackageName=name)

    def render(out: Console) -> None:
        rows = [(e["Check"], e["Status"], when(e["Time"]), e.get("By") or "-",
                 ", ".join(f"{k}={v}" for k, v in (e.get("Detail") or {}).items()) or "-",
                 (e.get("PromotedFrom") or {}).get("SourceUrl", "-")) for e in doc["Evidence"]]
        out.print(table(["Check", "Status", "Time", "By", "Detail", "Recorded on"], rows, title=name))
        out.print(fields([("Required", ", ".join(doc["RequiredChecks"]) or "-"),
                          ("Missing or failed", ", ".join(doc["MissingChecks"]) or "-")]))

    emit(doc, as_json, render)


def register(cli: click.Group) -> None:
    cli.add_command(promote_command)


__all__ = ["evidence", "register"]
