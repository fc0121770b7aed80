"""Where captured files go: a local directory (a plain path or ``file://``) or an S3-compatible bucket
(``s3://bucket/prefix``, through ``GREENFLEET_S3_ENDPOINT_URL`` when set). A destination receives one
chunk of JSON lines per (endpoint, variant, hour) per flush."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import unquote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError


class CaptureWriteError(Exception):
    """A destination refused a write; the message says which and why."""


class Destination(Protocol):
    def write(self, prefix: str, name: str, data: bytes) -> None:
        """Store ``data`` under ``{prefix}/``; ``name`` is the file name to use for a new file."""

    def close(self) -> None: ...


class LocalDestination:
    """Appends to one open file per hour directory and flushes it on every write (so at most one flush
    interval is lost in a crash); a new hour starts a new file."""

    IDLE_S = 60.0
    """A file not written for this long is closed (its endpoint may be gone); a later write reopens it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, IO[bytes]] = {}
        self._written_at: dict[str, float] = {}

    def write(self, prefix: str, name: str, data: bytes) -> None:
        try:
            handle = self._open.get(prefix)
            if handle is None:
                self._close_other_hours(prefix)
                directory = self.root / prefix
                directory.mkdir(parents=True, exist_ok=True)
                handle = open(directory / name, "ab")  # noqa: SIM115 - kept open across flushes
                self._open[prefix] = handle
            handle.write(data)
            handle.flush()
            now = time.monotonic()
            self._written_at[prefix] = now
            for idle in [p for p, at in self._written_at.items() if now - at > self.IDLE_S]:
                self._drop(idle)
        except OSError as exc:
            self._drop(prefix)
            raise CaptureWriteError(f"cannot write to {self.root}: {exc.strerror or exc}") from exc

    def _close_other_hours(self, prefix: str) -> None:
        """A variant's previous hour is complete once a later one starts."""
        variant_dir = prefix.rsplit("/", 4)[0]
        for other in [p for p in self._open if p.rsplit("/", 4)[0] == variant_dir]:
            self._drop(other)

    def _drop(self, prefix: str) -> None:
        self._written_at.pop(prefix, None)
        handle = self._open.pop(prefix, None)
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

    def close(self) -> None:
        for prefix in list(self._open):
            self._drop(prefix)


class S3Destination:
    """One object per flush: ``s3://bucket/prefix/{endpoint}/{variant}/yyyy/mm/dd/hh/{name}``."""

    def __init__(self, bucket: str, key_prefix: str, endpoint_url: str | None, kms_key_id: str | None) -> None:
        import boto3  # only a server that captures to S3 pays for boto3's import
        from botocore.client import Config

        self.bucket, self.key_prefix = bucket, key_prefix.strip("/")
        self.encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}) if endpoint_url else None
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url, config=config)

    def write(self, prefix: str, name: str, data: bytes) -> None:
        key = "/".join(p for p in (self.key_prefix, prefix, name) if p)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/jsonl",
                                   **self.encryption)
        except (BotoCoreError, ClientError) as exc:
            raise CaptureWriteError(f"cannot write s3://{self.bucket}/{key}: {exc}") from exc

    def close(self) -> None:
        self.client.close()


def local_root(uri: str) -> Path | None:
    """The directory of a local destination (a path or ``file://``); None for ``s3://``."""
    if uri.startswith("s3://"):
        return None
    if uri.startswith("file://"):
        return Path(unquote(urlsplit(uri).path))
    return Path(uri)


def open_destination(uri: str, s3_endpoint_url: str | None, kms_key_id: str | None = None) -> Destination:
    root = local_root(uri)
    if root is not None:
        return LocalDestination(root)
    parts = urlsplit(uri)
    if not parts.netloc:
        raise CaptureWriteError(f"{uri} names no bucket (expected s3://bucket/prefix)")
    return S3Destination(parts.netloc, parts.path, s3_endpoint_url, kms_key_id)
