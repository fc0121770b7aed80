"""``greenfleet invoke``: one InvokeEndpoint call; the model's answer on stdout, the variant on stderr."""

from __future__ import annotations

import base64
from typing import BinaryIO

import click

from greenfleet.cli.output import Doc, client_options, connect, print_json
from greenfleet.client import InvokeEndpointOutput


def as_doc(result: InvokeEndpointOutput, body: bytes) -> Doc:
    """InvokeEndpoint's answer in boto3's shape; a body that is not UTF-8 is base64-encoded."""
    doc: Doc = {"ContentType": result["ContentType"],
                "InvokedProductionVariant": result.get("InvokedProductionVariant")}
    try:
        doc["Body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        doc["Body"], doc["BodyEncoding"] = base64.b64encode(body).decode(), "base64"
    if "CustomAttributes" in result:
        doc["CustomAttributes"] = result["CustomAttributes"]
    return doc


@click.command()
@click.argument("endpoint_name", metavar="ENDPOINT")
@click.option("--body", help="Request body, as text.")
@click.option("--file", "file", type=click.File("rb"), help="Read the request body from PATH ('-': stdin).")
@click.option("--content-type", default="text/csv", show_default=True, help="Content-Type of the body.")
@click.option("--accept", help="Accept: the content type wanted back.")
@click.option("--target-variant", help="Send to this production variant instead of a weighted choice.")
@click.option("--custom-attributes", help="X-Amzn-SageMaker-Custom-Attributes, passed to the model.")
@click.option("--inference-id", help="X-Amzn-SageMaker-Inference-Id.")
@client_options
def invoke(endpoint_name: str, body: str | None, file: BinaryIO | None, content_type: str, accept: str | None,
           target_variant: str | None, custom_attributes: str | None, inference_id: str | None, url: str,
           as_json: bool) -> None:
    """Invoke ENDPOINT with --body TEXT or --file PATH."""
    if (body is None) == (file is None):
        raise click.UsageError("give exactly one of --body or --file")
    payload = body.encode("utf-8") if body is not None else file.read()  # type: ignore[union-attr]
    with connect(url) as client:
        result = client.invoke_endpoint(EndpointName=endpoint_name, Body=payload, ContentType=content_type,
                                        Accept=accept, TargetVariant=target_variant,
                                        CustomAttributes=custom_attributes, InferenceId=inference_id)
    answer = result["Body"].read()
    if as_json:
        print_json(as_doc(result, answer))
        return
    click.echo(answer, nl=not answer.endswith(b"\n"))
    click.echo(f"variant: {result.get('InvokedProductionVariant')}", err=True)


@click.command("invoke-async")
@click.argument("endpoint_name", metavar="ENDPOINT")
@click.option("--input-location", help="s3:// or file:// URL of the request payload.")
@click.option("--body", help="Inline request payload, as text (at most 128,000 bytes).")
@click.option("--content-type", help="Content-Type passed to the model.")
@click.option("--accept", help="Accept passed to the model.")
@click.option("--inference-id", help="X-Amzn-SageMaker-Inference-Id (default: generated).")
@click.option("--ttl", "ttl", type=int, help="RequestTTLSeconds (60-21600).")
@click.option("--timeout", "timeout", type=int, help="InvocationTimeoutSeconds (1-3600).")
@client_options
def invoke_async(endpoint_name: str, input_location: str | None, body: str | None, content_type: str | None,
                 accept: str | None, inference_id: str | None, ttl: int | None, timeout: int | None, url: str,
                 as_json: bool) -> None:
    """Queue a request for asynchronous ENDPOINT; prints the inference id and where its output will be."""
    if (body is None) == (input_location is None):
        raise click.UsageError("give exactly one of --input-location or --body")
    with connect(url) as client:
        result = client.invoke_endpoint_async(EndpointName=endpoint_name, InputLocation=input_location, Body=body,
                                              ContentType=content_type, Accept=accept, InferenceId=inference_id,
                                              RequestTTLSeconds=ttl, InvocationTimeoutSeconds=timeout)
    doc = {k: v for k, v in result.items() if k != "ResponseMetadata"}
    if as_json:
        print_json(doc)
        return
    click.echo(f"{doc['InferenceId']}\toutput: {doc['OutputLocation']}\tfailure: {doc['FailureLocation']}")


def register(cli: click.Group) -> None:
    cli.add_command(invoke)
    cli.add_command(invoke_async)
