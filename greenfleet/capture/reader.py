"""Reading captured records back: every record of one endpoint whose invocation hour overlaps a time
window, from a local destination or S3, filtered to the window by ``eventMetadata.inferenceTime``.

``read_inputs`` gives only what a data-quality execution reads (each record's endpointInput encoding and
data): a file in SageMaker's record layout, its strings free of escapes, is read by one regular
expression without building a dict per record; any other file by the JSON parser (``read_captured``)."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson

from greenfleet.capture.destination import local_root

Record = dict[str, Any]


def hours(start: float, end: float) -> list[str]:
    """``yyyy/mm/dd/hh`` of every hour overlapping [start, end)."""
    first = int(start // 3600) * 3600
    return [time.strftime("%Y/%m/%d/%H", time.gmtime(h)) for h in range(first, int(end) + 1, 3600) if h < end]


def parse_time(text: str) -> float:
    """Seconds since the epoch of an ``inferenceTime`` (``2019-11-20T23:33:12Z``, fractions allowed)."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return seconds + (float(f"0.{fraction}") if fraction else 0.0)


_INPUT_LINE = re.compile(
    rb'^\{"captureData":\{"endpointInput":\{"observedContentType":"[^"\\\n]*","mode":"INPUT",'
    rb'"data":"([^"\\\n]*)","encoding":"([A-Z0-9]+)"\}[^\n]*?"inferenceTime":"([^"\\\n]*)"', re.MULTILINE)
"""One record as SageMaker and greenfleet's writer lay it out, its input's data free of JSON escapes: the
groups are the data, the encoding and the inferenceTime (a raw quote is always structural in JSON, so
``"inferenceTime":"`` can only be eventMetadata's member)."""


def read_captured(destination: str, endpoint: str, start: float, end: float,
                  s3_endpoint_url: str | None = None) -> Iterator[Record]:
    """Records of ``endpoint`` (all variants) with start ≤ inferenceTime < end, file by file in key order."""
    parsed: dict[str, float] = {}  # records of one second share their inferenceTime
    for chunk in _chunks(destination.rstrip("/"), endpoint, hours(start, end), s3_endpoint_url):
        yield from _in_window(_records(chunk), start, end, parsed)


def read_inputs(destination: str, endpoint: str, start: float, end: float,
                s3_endpoint_url: str | None = None) -> Iterator[tuple[str, str]]:
    """(encoding, data) of the endpointInput of every record ``read_captured`` gives that has one."""
    parsed: dict[str, float] = {}
    times: dict[bytes, float] = {}
    for chunk in _chunks(destination.rstrip("/"), endpoint, hours(start, end), s3_endpoint_url):
        found = _INPUT_LINE.findall(chunk)
        if len(found) != chunk.count(b"\n") + (0 if chunk.endswith(b"\n") or not chunk else 1):
            # another layout, escapes, blank lines, records without input: the JSON parser decides
            for record in _in_window(_records(chunk), start, end, parsed):
                payload = record["captureData"].get("endpointInput")
                if payload is not None:
                    yield payload["encoding"], payload["data"]
            continue
        for data, encoding, text in found:
            at = times.get(text)
            if at is None:
                at = times[text] = parse_time(text.decode())
            if start <= at < end:
                yield encoding.decode(), data.decode("utf-8")


def _records(chunk: bytes) -> list[Record]:
    lines = [line for line in chunk.splitlines() if line.strip()]
    records: list[Record] = orjson.loads(b"[" + b",".join(lines) + b"]")  # one call per file
    return records


def _in_window(records: list[Record], start: float, end: float, parsed: dict[str, float]) -> Iterator[Record]:
    for record in records:
        text = record["eventMetadata"]["inferenceTime"]
        at = parsed.get(text)
        if at is None:
            at = parsed[text] = parse_time(text)
        if start <= at < end:
            yield record


def _chunks(destination: str, endpoint: str, wanted: list[str], s3_endpoint_url: str | None) -> Iterator[bytes]:
    root = local_root(destination)
    if root is not None:
        base = root / endpoint
        if not base.is_dir():
            return
        for variant in sorted(p for p in base.iterdir() if p.is_dir()):
            for hour in wanted:
                directory = variant / hour
                if directory.is_dir():
                    for path in sorted(directory.glob("*.jsonl")):
                        yield path.read_bytes()
        return
    yield from _s3_chunks(destination, endpoint, wanted, s3_endpoint_url)


def _s3_chunks(destination: str, endpoint: str, wanted: list[str], s3_endpoint_url: str | None) -> Iterator[bytes]:
    import boto3
    from botocore.client import Config

    parts = urlsplit(destination)
    bucket, prefix = parts.netloc, parts.path.strip("/")
    config = Config(s3={"addressing_style": "path"}) if s3_endpoint_url else None
    client: Any = boto3.client("s3", endpoint_url=s3_endpoint_url, config=config)
    base = "/".join(p for p in (prefix, endpoint) if p) + "/"
    variants = [p["Prefix"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=base, Delimiter="/") for p in page.get("CommonPrefixes", [])]
    wanted_set = set(wanted)
    for variant in sorted(variants):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=variant):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith(".jsonl") and key[len(variant):].rsplit("/", 1)[0] in wanted_set:
                    yield client.get_object(Bucket=bucket, Key=key)["Body"].read()
