"""Reading and writing Model Monitor's files (baselines, reports) at a local path, ``file://`` or ``s3://``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from greenfleet.capture.destination import local_root


class UriError(Exception):
    """A file could not be read or written; the message names it."""


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *(p.strip("/") for p in parts if p)])


def _s3(uri: str, endpoint_url: str | None) -> tuple[Any, str, str]:
    import boto3
    from botocore.client import Config

    parts = urlsplit(uri)
    config = Config(s3={"addressing_style": "path"}) if endpoint_url else None
    return boto3.client("s3", endpoint_url=endpoint_url, config=config), parts.netloc, parts.path.lstrip("/")


def read_bytes(uri: str, s3_endpoint_url: str | None = None) -> bytes:
    root = local_root(uri)
    try:
        if root is not None:
            return Path(root).read_bytes()
        client, bucket, key = _s3(uri, s3_endpoint_url)
        return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except (OSError, BotoCoreError, ClientError) as exc:
        raise UriError(f"cannot read {uri}: {getattr(exc, 'strerror', None) or exc}") from exc


def write_bytes(uri: str, data: bytes, s3_endpoint_url: str | None = None) -> None:
    root = local_root(uri)
    try:
        if root is not None:
            root.parent.mkdir(parents=True, exist_ok=True)
            root.write_bytes(data)
            return
        client, bucket, key = _s3(uri, s3_endpoint_url)
        client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json")
    except (OSError, BotoCoreError, ClientError) as exc:
        raise UriError(f"cannot write {uri}: {getattr(exc, 'strerror', None) or exc}") from exc
