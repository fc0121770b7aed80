"""``greenfleet feedback put`` and ``greenfleet abtest …``: outcomes by inference id, and A/B tests decided
on them with always-valid statistics."""

from __future__ import annotations

import json
from typing import Any

import click

from greenfleet.cli.output import Doc, client_options, connect, done, emit, fields, table, when


@click.group("feedback", short_help="Record outcomes (rewards or labels) by inference id.")
def feedback() -> None:
    """Closed-loop feedback: what happened after an invocation, by its inference id."""


@feedback.command("put")
@click.argument("endpoint")
@click.option("--reward", "rewards", multiple=True, metavar="ID=VALUE", help="A reward for an inference id.")
@click.option("--label", "labels", multiple=True, metavar="ID=LABEL", help="The ground truth of an inference id.")
@click.option("--file", "path", type=click.File("r"), help="JSON lines of {InferenceId, Reward|Label} ('-': stdin).")
@client_options
def put(endpoint: str, rewards: tuple[str, ...], labels: tuple[str, ...], path: Any, url: str, as_json: bool) -> None:
    """Record outcomes of ENDPOINT's invocations."""
    outcomes: list[Doc] = []
    for pairs, key in ((rewards, "Reward"), (labels, "Label")):
        for pair in pairs:
            inference_id, sep, value = pair.partition("=")
            if not sep:
                raise click.BadParameter(f"expected ID=VALUE, got {pair!r}")
            outcomes.append({"InferenceId": inference_id, key: float(value) if key == "Reward" else value})
    if path is not None:
        outcomes += [json.loads(line) for line in path if line.strip()]
    if not outcomes:
        raise click.UsageError("give --reward, --label or --file")
    with connect(url) as client:
        answer = client.put_feedback(EndpointName=endpoint, Outcomes=outcomes)
    failed = "; ".join(f"{f['InferenceId']}: {f['ErrorCode']}" for f in answer["Failed"][:5])
    done(f"Recorded {answer['Recorded']}, duplicates {answer['Duplicates']}, failed {len(answer['Failed'])}"
         + (f" ({failed})" if failed else ""), answer, as_json)


@click.group("abtest", short_help="A/B tests between two variants, decided on feedback.")
def abtest() -> None:
    """A/B tests: two production variants of an endpoint compared on recorded outcomes (mean reward or
    accuracy), with an always-valid sequential test (mSPRT), so the live status can be read at any time."""


@abtest.command("create")
@click.argument("name")
@click.option("--endpoint", required=True)
@click.option("--a", "variant_a", required=True, help="Variant A (the control).")
@click.option("--b", "variant_b", required=True, help="Variant B.")
@click.option("--metric", type=click.Choice(["MeanReward", "Accuracy"]), default="MeanReward", show_default=True)
@click.option("--minimum-samples", default=100, show_default=True, type=int, help="Outcomes per variant first.")
@click.option("--confidence", default=0.95, show_default=True, type=float)
@click.option("--shift-traffic", is_flag=True, help="On a decision, deploy the winner (guarded), not only notify.")
@client_options
def create(name: str, endpoint: str, variant_a: str, variant_b: str, metric: str, minimum_samples: int,
           confidence: float, shift_traffic: bool, url: str, as_json: bool) -> None:
    """Start A/B test NAME on ENDPOINT."""
    with connect(url) as client:
        answer = client.create_ab_test(Name=name, EndpointName=endpoint, VariantA=variant_a, VariantB=variant_b,
                                       Metric=metric, MinimumSamples=minimum_samples, Confidence=confidence,
                                       OnDecision="ShiftTraffic" if shift_traffic else "Notify")
    done(f"Started A/B test {name} on {endpoint}", answer, as_json)


@abtest.command("list")
@client_options
def list_tests(url: str, as_json: bool) -> None:
    """List A/B tests."""
    with connect(url) as client:
        doc = client.list_ab_tests()
    emit(doc, as_json, lambda out: out.print(table(["Name", "Endpoint", "Status", "Decision", "Created"], [
        (t["Name"], t["EndpointName"], t["Status"], t.get("Decision"), when(t["CreationTime"]))
        for t in doc["AbTests"]])))


def _interval(pair: list[float] | None, percent: bool = False) -> str:
    if not pair:
        return "-"
    return f"[{pair[0]:+.2%}, {pair[1]:+.2%}]" if percent else f"[{pair[0]:.4g}, {pair[1]:.4g}]"


@abtest.command("describe")
@click.argument("name")
@client_options
def describe(name: str, url: str, as_json: bool) -> None:
    """Show A/B test NAME: per variant n, mean and interval, the lift and the decision."""
    with connect(url) as client:
        doc = client.describe_ab_test(Name=name)

    def render(out: Any) -> None:
        lift = doc.get("Lift") or {}
        out.print(fields([("Name", doc["Name"]), ("Endpoint", doc["EndpointName"]), ("Status", doc["Status"]),
                          ("Metric", doc["Metric"]), ("Decision", doc["Decision"]),
                          ("Lift (B vs A)", f"{lift['Relative']:+.2%} {_interval(lift.get('RelativeInterval'), True)}"
                           if "Relative" in lift else None)]))
        out.print(table(["Variant", "N", "Mean", "95 % interval"], [
            (v["VariantName"], v["N"], "-" if v["Mean"] is None else f"{v['Mean']:.4g}", _interval(v["Interval"]))
            for v in doc["Variants"]]))

    emit(doc, as_json, render)


@abtest.command("delete")
@click.argument("name")
@client_options
def delete(name: str, url: str, as_json: bool) -> None:
    """End A/B test NAME (recorded outcomes stay until the retention)."""
    with connect(url) as client:
        answer = client.delete_ab_test(Name=name)
    done(f"Deleted A/B test {name}", answer, as_json)


def register(cli: click.Group) -> None:
    cli.add_command(feedback)
    cli.add_command(abtest)


__all__ = ["register"]
