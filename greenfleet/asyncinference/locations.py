"""Where asynchronous requests are read from and their outputs and failures written to: ``s3://`` (any
S3-compatible server, ``GREENFLEET_S3_ENDPOINT_URL``) and ``file://`` (under the server's
``GREENFLEET_ASYNC_FILE_ROOTS``). Everything is streamed in chunks: a payload is never held whole.

An output is written once under its final name: to a file next to it renamed into place, to S3 in one
(multipart) upload, so a reader never sees half an output."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

CHUNK = 1024 * 1024


class LocationError(Exception):
    """A location that cannot be used, with the reason."""


@dataclass(frozen=True)
class Input:
    """An input object opened for reading, and its size in bytes (sent as the request's Content-Length: a
    container that implements the SageMaker contract need not read chunked bodies)."""

    stream: IO[bytes]
    size: int


class Locations:
    def __init__(self, s3_endpoint_url: str | None, file_roots: Sequence[Path]) -> None:
        self.s3_endpoint_url = s3_endpoint_url
        self.file_roots = tuple(Path(os.path.realpath(r)) for r in file_roots)
        self._s3: Any = None

    # -- checks --------------------------------------------------------------------------------------------
    def check_url(self, url: str, field: str) -> None:
        """A well-formed ``s3://bucket/...`` or an allowed ``file://`` path, else LocationError."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "s3":
            if not urlsplit(url).netloc:
                raise LocationError(f"{field}: '{url}' names no bucket (s3://bucket/key)")
        elif scheme == "file":
            self.path(url, field)
        else:
            raise LocationError(f"{field}: '{url}' must be an s3:// URL or a file:// URL")

    def path(self, url: str, field: str) -> Path:
        if not self.file_roots:
            raise LocationError(f"{field}: file:// locations are off on this server (set "
                                "GREENFLEET_ASYNC_FILE_ROOTS to the directories they may use)")
        path = Path(os.path.realpath(unquote(urlsplit(url).path)))
        if not any(path == root or root in path.parents for root in self.file_roots):
            raise LocationError(f"{field}: '{url}' is not under GREENFLEET_ASYNC_FILE_ROOTS")
        return path

    def check_input(self, url: str) -> None:
        """The input object exists (a stat for a file, a HEAD for S3)."""
        if urlsplit(url).scheme.lower() == "file":
            if not self.path(url, "InputLocation").is_file():
                raise LocationError(f"InputLocation: no input object at {url}")
            return
        bucket, key = _bucket_key(url)
        try:
            self.s3().head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            raise LocationError(f"InputLocation: no input object at {url} ({_reason(exc)})") from exc

    def check_writable(self, url: str, field: str) -> None:
        """An output path we can write under: an existing writable directory, or an existing bucket."""
        if urlsplit(url).scheme.lower() == "file":
            path = self.path(url, field)
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LocationError(f"{field}: cannot create {path}: {exc.strerror}") from exc
            if not os.access(path, os.W_OK | os.X_OK):
                raise LocationError(f"{field}: {path} is not writable by the server")
            return
        bucket, _ = _bucket_key(url)
        try:
            self.s3().head_bucket(Bucket=bucket)
        except Exception as exc:
            raise LocationError(f"{field}: bucket '{bucket}' cannot be written ({_reason(exc)})") from exc

    # -- streams -------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def reader(self, url: str) -> Iterator[Input]:
        if urlsplit(url).scheme.lower() == "file":
            with open(self.path(url, "InputLocation"), "rb") as handle:
                yield Input(handle, os.fstat(handle.fileno()).st_size)
            return
        bucket, key = _bucket_key(url)
        answer = self.s3().get_object(Bucket=bucket, Key=key)
        body = answer["Body"]
        try:
            yield Input(body, int(answer["ContentLength"]))
        finally:
            body.close()

    def write(self, url: str, chunks: Iterable[bytes], content_type: str | None) -> None:
        """Write the streamed ``chunks`` as the object at ``url``, in place at once."""
        if urlsplit(url).scheme.lower() == "file":
            path = self.path(url, "output")
            path.parent.mkdir(parents=True, exist_ok=True)
            # Its own partial file: two requests may name one output (a Filename given twice) at once.
            partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
            try:
                with open(partial, "xb") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(partial, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
                raise
            return
        bucket, key = _bucket_key(url)
        extra = {"ContentType": content_type} if content_type else {}
        self.s3().upload_fileobj(ChunkReader(chunks), bucket, key, ExtraArgs=extra)

    def exists(self, url: str) -> bool:
        if urlsplit(url).scheme.lower() == "file":
            return self.path(url, "output").exists()
        bucket, key = _bucket_key(url)
        try:
            self.s3().head_object(Bucket=bucket, Key=key)
        except Exception:
            return False
        return True

    def delete(self, url: str) -> None:
        if urlsplit(url).scheme.lower() == "file":
            with contextlib.suppress(OSError):
                self.path(url, "input").unlink()

    def s3(self) -> Any:
        if self._s3 is None:
            import boto3
            from botocore.client import Config

            config = Config(s3={"addressing_style": "path"}, max_pool_connections=64)
            self._s3 = boto3.client("s3", endpoint_url=self.s3_endpoint_url, config=config)
        return self._s3


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (what boto3's streaming upload reads from)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])


def _bucket_key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc, parts.path.lstrip("/")


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', '')} {error.get('Message', '')}".strip() or str(exc)
    return str(exc)
