"""Reading captured records back: every record of one endpoint whose invocation hour overlaps a time
window, from a local destination or S3, filtered to the window by ``eventMetadata.inferenceTime``."""

from __future__ import annotations

import calendar
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


def read_captured(destination: str, endpoint: str, start: float, end: float,
                  s3_endpoint_url: str | None = None) -> Iterator[Record]:
    """Records of ``endpoint`` (all variants) with start ≤ inferenceTime < end, file by file in key order."""
    parsed: dict[str, float] = {}  # records of one second share their inferenceTime
    for chunk in _chunks(destination.rstrip("/"), endpoint, hours(start, end), s3_endpoint_url):
        lines = [line for line in chunk.splitlines() if line.strip()]
        for record in orjson.loads(b"[" + b",".join(lines) + b"]"):  # one call per file
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
