"""Fetch a ModelDataUrl into the model directory (the ``/opt/ml/model`` contract).

Schemes: a local path, ``file://``, ``http(s)://`` and ``s3://``. The URL names either a tarball
(``.tar.gz``/``.tgz``/``.tar``, unpacked), a directory or S3 prefix (its contents copied) or a single
file (copied in under its own name). Archives are streamed, never staged on disk first. Every byte
written spends one :class:`SizeBudget`, and every failure is an :class:`ArtifactError` whose message
starts with the (credential-free) URL.
"""

from __future__ import annotations

import io
import ipaddress
import os
import shutil
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

from greenfleet.artifacts.archive import compression_of, extract_tar
from greenfleet.artifacts.budget import SizeBudget
from greenfleet.artifacts.errors import ArtifactError

__all__ = ["describe_url", "install_model_data"]

_HTTP_CONNECT_TIMEOUT_S, _HTTP_READ_TIMEOUT_S = 30.0, 300.0


def install_model_data(
    url: str,
    model_dir: Path,
    *,
    max_bytes: int,
    s3_endpoint_url: str | None = None,
    label: str = "ModelDataUrl",
    roots: Sequence[Path] | None = None,
    allow_link_local: bool = True,
) -> None:
    """Put the model data at ``url`` into ``model_dir``; ``label`` opens every error message.

    ``roots``: the directories a local path or ``file://`` URL must lie under (symbolic links resolved,
    for the URL and for every file copied from a directory); None: anywhere. ``allow_link_local``: False
    refuses http(s) hosts that resolve to link-local or cloud metadata addresses (redirects included)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    placer = _Placer(model_dir, SizeBudget(max_bytes), roots)
    try:
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("http", "https"):
            _install_http(url, placer, allow_link_local)
        elif scheme == "s3":
            from greenfleet.artifacts.s3 import install_s3  # boto3 is slow to import: only when needed

            install_s3(url, s3_endpoint_url, placer.place)
        elif scheme in ("", "file"):
            _install_local(_local_path(url), placer)
        else:
            raise ArtifactError(f"unsupported URL scheme '{scheme}' (use a path, file://, http(s):// or s3://)")
    except ArtifactError as exc:
        raise ArtifactError(f"{label} {describe_url(url)}: {exc.message}") from exc
    except OSError as exc:
        raise ArtifactError(f"{label} {describe_url(url)}: {exc}") from exc


def describe_url(url: str) -> str:
    """``url`` without user info and query string, which may hold credentials or signatures."""
    parts = urlsplit(url)
    if not parts.scheme or parts.scheme.lower() == "file":
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _Placer:
    """Writes streams into the model directory: archives unpacked, other files copied in."""

    def __init__(self, model_dir: Path, budget: SizeBudget, roots: Sequence[Path] | None = None) -> None:
        self.model_dir = model_dir
        self.budget = budget
        self.roots = None if roots is None else [Path(os.path.realpath(r)) for r in roots]

    def check_readable(self, path: Path, shown: str) -> None:
        """ArtifactError unless ``path`` (links resolved) lies under one of the roots; the message names
        only what the client gave (``shown``), never what the path resolves to."""
        if self.roots is None:
            return
        real = Path(os.path.realpath(path))
        if not any(real == root or real.is_relative_to(root) for root in self.roots):
            raise ArtifactError(f"{shown} is outside the directories model data may be read from "
                                f"(GREENFLEET_MODEL_DATA_ROOTS: {os.pathsep.join(map(str, self.roots))})")

    def place(self, stream: IO[bytes], relative: str, unpack: bool = True) -> None:
        """Unpack ``stream`` if ``unpack`` and ``relative`` names an archive, else write it to that path."""
        parts = PurePosixPath(relative).parts
        if not parts or relative.startswith("/") or ".." in parts:
            raise ArtifactError(f"'{relative}' is not a safe file name inside the model directory")
        compression = compression_of(relative) if unpack else None
        if compression is not None:
            extract_tar(stream, self.model_dir, self.budget, compression)
            return
        target = self.model_dir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as output:
            self.budget.copy(stream, output, relative)

    def copy_file(self, source: str, target: str) -> str:
        """A :func:`shutil.copytree` copy function that spends the budget."""
        self.check_readable(Path(source), f"'{os.path.relpath(target, self.model_dir)}' (a link)")
        with open(source, "rb") as stream, open(target, "wb") as output:
            self.budget.copy(stream, output, os.path.relpath(target, self.model_dir))
        shutil.copymode(source, target)
        return target


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        return Path(url).expanduser()
    if parts.netloc not in ("", "localhost"):
        raise ArtifactError(f"file:// URL names the remote host '{parts.netloc}'")
    return Path(url2pathname(unquote(parts.path)))


def _install_local(path: Path, placer: _Placer) -> None:
    placer.check_readable(path, "the path")  # before anything is read, or its existence told
    if path.is_dir():
        if path.resolve() == placer.model_dir.resolve():
            return
        shutil.copytree(path, placer.model_dir, copy_function=placer.copy_file, dirs_exist_ok=True)
    elif path.is_file():
        with path.open("rb") as stream:
            placer.place(stream, path.name)
    else:
        raise ArtifactError("no such file or directory")


def _check_host(host: str) -> None:
    """ArtifactError if ``host`` is or resolves to a link-local or cloud metadata address."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ArtifactError(f"cannot resolve host '{host}': {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address.is_link_local or address in _METADATA:
            raise ArtifactError(f"host '{host}' is a link-local or cloud metadata address ({address}); "
                                "set GREENFLEET_MODEL_DATA_ALLOW_LINK_LOCAL=true to fetch from it")


_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}


def _install_http(url: str, placer: _Placer, allow_link_local: bool = True) -> None:
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    if not name:
        raise ArtifactError("URL path names no file")
    import httpx  # imported here: a worker without http(s) model data does not pay for it

    def check(request: httpx.Request) -> None:  # every request, redirects included
        if not allow_link_local:
            _check_host(request.url.host)

    timeout = httpx.Timeout(_HTTP_CONNECT_TIMEOUT_S, read=_HTTP_READ_TIMEOUT_S)
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout, event_hooks={"request": [check]}) as client, \
                client.stream("GET", url) as response:
            if response.status_code != 200:
                raise ArtifactError(f"HTTP {response.status_code} {response.reason_phrase}")
            stream = io.BufferedReader(_IteratorReader(response.iter_bytes()), buffer_size=1024 * 1024)
            placer.place(stream, name)
    except httpx.HTTPError as exc:
        raise ArtifactError(f"download failed: {type(exc).__name__}: {exc}") from exc


class _IteratorReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (an HTTP response body)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
