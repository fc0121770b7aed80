"""Safe extraction of a model tarball (``model.tar.gz``) into the model directory.

The archive is read as a stream (no seeking, so it can come straight from S3 or HTTP). Every member is
checked twice before anything is written: first by our own rules, which name the member and the
problem precisely, then by :func:`tarfile.data_filter` as a second net. Regular files are written by
us, chunk by chunk, spending a :class:`SizeBudget`, so the size limit holds against a lying header.

Rejected: absolute paths, ``..`` traversal (also through a symlink extracted earlier), symlinks and
hard links that resolve outside the model directory, device files and FIFOs.
"""

from __future__ import annotations

import os
import stat
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from greenfleet.artifacts.budget import SizeBudget
from greenfleet.artifacts.errors import ArtifactError

__all__ = ["Compression", "compression_of", "extract_tar"]

Compression = Literal["gz", ""]
"""``gz`` for ``.tar.gz``/``.tgz``, ``""`` for a plain ``.tar``."""

_SUFFIXES: tuple[tuple[str, Compression], ...] = ((".tar.gz", "gz"), (".tgz", "gz"), (".tar", ""))
_STREAM_MODES: dict[Compression, Literal["r|gz", "r|"]] = {"gz": "r|gz", "": "r|"}


def compression_of(name: str) -> Compression | None:
    """The compression of an archive named ``name``, or None when the name is not an archive's."""
    lowered = name.lower()
    for suffix, compression in _SUFFIXES:
        if lowered.endswith(suffix):
            return compression
    return None


def extract_tar(stream: IO[bytes], dest: Path, budget: SizeBudget, compression: Compression = "gz") -> int:
    """Unpack the tar archive read from ``stream`` into ``dest``; return the number of members written."""
    dest.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(dest)
    count = 0
    try:
        with tarfile.open(fileobj=stream, mode=_STREAM_MODES[compression]) as archive:
            for member in archive:
                _extract_member(archive, member, root, budget)
                count += 1
    except tarfile.ReadError as exc:
        raise ArtifactError(_describe_read_error(str(exc), compression)) from exc
    except (zlib.error, EOFError) as exc:
        raise ArtifactError(f"archive is corrupt: {exc}") from exc
    return count


def _describe_read_error(reason: str, compression: Compression) -> str:
    if reason == "not a gzip file":
        return "archive is not gzip-compressed (expected a .tar.gz)"
    if reason == "empty file":
        return "archive is empty"
    if reason in ("truncated header", "bad checksum", "invalid header"):
        return f"archive is not a tar archive ({reason})" if compression else f"not a tar archive ({reason})"
    if reason == "unexpected end of data":
        return "archive is truncated (unexpected end of data)"
    return f"archive is corrupt: {reason}"


def _extract_member(archive: tarfile.TarFile, member: tarfile.TarInfo, root: str, budget: SizeBudget) -> None:
    _check_member(member, root)
    try:
        member = tarfile.data_filter(member, root)
    except tarfile.FilterError as exc:
        raise ArtifactError(f"archive member '{exc.tarinfo.name}' is rejected: {exc}") from exc
    target = os.path.join(root, member.name)
    try:
        if member.isdir():
            os.makedirs(target, exist_ok=True)
        elif member.isreg():
            _write_file(archive, member, target, budget)
        elif member.issym():
            _clear(target)
            os.symlink(member.linkname, target)
        elif member.islnk():
            _clear(target)
            os.link(os.path.join(root, member.linkname), target, follow_symlinks=False)
    except OSError as exc:
        raise ArtifactError(f"archive member '{member.name}' cannot be written: {exc.strerror or exc}") from exc


def _check_member(member: tarfile.TarInfo, root: str) -> None:
    name = member.name
    if name.startswith("/") or os.path.isabs(name):
        raise ArtifactError(f"archive member '{name}' has an absolute path")
    if ".." in PurePosixPath(name).parts:
        raise ArtifactError(f"archive member '{name}' escapes the model directory")
    if not _inside(root, os.path.join(root, name)):
        raise ArtifactError(f"archive member '{name}' escapes the model directory through a symlink")
    if member.ischr() or member.isblk():
        raise ArtifactError(f"archive member '{name}' is a device file")
    if member.isfifo():
        raise ArtifactError(f"archive member '{name}' is a FIFO")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise ArtifactError(f"archive member '{name}' has an unsupported type {member.type!r}")
    if member.issym() or member.islnk():
        _check_link(member, root)


def _check_link(member: tarfile.TarInfo, root: str) -> None:
    kind = "symlink" if member.issym() else "hard link"
    link = member.linkname
    if link.startswith("/") or os.path.isabs(link):
        raise ArtifactError(f"archive member '{member.name}' is a {kind} to the absolute path '{link}'")
    # A symlink is relative to its own directory, a hard link to the archive root.
    base = os.path.join(root, os.path.dirname(member.name)) if member.issym() else root
    if not _inside(root, os.path.join(base, link)):
        raise ArtifactError(f"archive member '{member.name}' is a {kind} to '{link}', outside the model directory")


def _inside(root: str, path: str) -> bool:
    resolved = os.path.realpath(path)
    return os.path.commonpath([resolved, root]) == root


def _clear(target: str) -> None:
    """Remove what a previous member with the same name left, unless it is a directory."""
    if os.path.lexists(target) and not (os.path.isdir(target) and not os.path.islink(target)):
        os.unlink(target)


def _write_file(archive: tarfile.TarFile, member: tarfile.TarInfo, target: str, budget: SizeBudget) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    _clear(target)
    mode = stat.S_IMODE(member.mode) if member.mode is not None else 0o644
    source = archive.extractfile(member)
    if source is None:  # pragma: no cover - isreg() members always have data
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as output, source:
        budget.copy(source, output, member.name)
