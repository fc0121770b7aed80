"""s3:// model data: one object (an archive or a single file) or every object under a prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

import boto3
from botocore.client import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from greenfleet.artifacts.errors import ArtifactError

__all__ = ["S3Location", "install_s3", "upload_file"]

Installer = Callable[[IO[bytes], str, bool], None]
"""Writes one stream to the model directory under a relative path; the flag allows unpacking an archive."""


class S3Location:
    """``s3://bucket/key`` split into its parts."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.netloc:
            raise ArtifactError("S3 URL has no bucket (expected s3://bucket/key)")
        self.bucket = parts.netloc
        self.key = parts.path.lstrip("/")


def install_s3(url: str, endpoint_url: str | None, install: Installer) -> None:
    """Stream the object at ``url`` to ``install``; if there is none, every object under the prefix."""
    location = S3Location(url)
    with _translated_errors(location):
        client = _client(endpoint_url)
        if location.key and not location.key.endswith("/"):
            body = _get_object(client, location.bucket, location.key)
            if body is not None:
                with body:
                    install(body, PurePosixPath(location.key).name, True)
                return
            prefix = location.key + "/"
        else:
            prefix = location.key
        if not _install_prefix(client, location.bucket, prefix, install):
            raise ArtifactError(f"no object or prefix '{location.key}' in bucket '{location.bucket}'")


def _client(endpoint_url: str | None) -> Any:
    config = Config(s3={"addressing_style": "path"}) if endpoint_url else None
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


def _get_object(client: Any, bucket: str, key: str) -> Any:
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        if _error_code(exc) in ("NoSuchKey", "404"):
            return None
        raise


def _install_prefix(client: Any, bucket: str, prefix: str, install: Installer) -> bool:
    found = False
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            relative = entry["Key"][len(prefix) :]
            if not relative or relative.endswith("/"):
                continue
            found = True
            with client.get_object(Bucket=bucket, Key=entry["Key"])["Body"] as body:
                install(body, relative, False)  # an uncompressed prefix is copied as it is
    return found


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _translated_errors(location: S3Location) -> Iterator[None]:
    try:
        yield
    except NoCredentialsError as exc:
        raise ArtifactError("no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)") from exc
    except EndpointConnectionError as exc:
        raise ArtifactError(f"cannot reach S3: {exc}") from exc
    except ClientError as exc:
        code = _error_code(exc)
        if code == "NoSuchBucket":
            raise ArtifactError(f"bucket '{location.bucket}' does not exist") from exc
        if code in ("AccessDenied", "403"):
            raise ArtifactError(f"access denied to s3://{location.bucket}/{location.key}") from exc
        raise ArtifactError(f"S3 error {code}: {exc}") from exc
    except BotoCoreError as exc:
        raise ArtifactError(f"S3 error: {exc}") from exc


def upload_file(path: Path, location: S3Location, endpoint_url: str | None) -> None:
    """Put the file at ``path`` to ``location`` (the registry's artifact store on S3)."""
    with _translated_errors(location):
        _client(endpoint_url).upload_file(str(path), location.bucket, location.key)


def download_file(location: S3Location, path: Path, endpoint_url: str | None) -> None:
    """Get the object at ``location`` into the file ``path`` (the registry's artifact store on S3)."""
    with _translated_errors(location):
        _client(endpoint_url).download_file(location.bucket, location.key, str(path))
