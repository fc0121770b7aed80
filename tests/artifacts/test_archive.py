"""Safe tar extraction: every hostile member is refused with a message naming it, and nothing escapes."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from greenfleet.artifacts import ArtifactError, SizeBudget, extract_tar

Member = tuple[str, bytes | None, dict[str, object]]


def tarball(*members: tarfile.TarInfo | tuple[str, bytes], compression: str = "gz") -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(member[1]))
    buffer.seek(0)
    return buffer


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "sandbox" / "model"


def extract(stream: io.BytesIO, dest: Path, limit: int = 10**9) -> None:
    extract_tar(stream, dest, SizeBudget(limit))


def outside(dest: Path) -> list[str]:
    """Everything in the sandbox that is not the model directory."""
    return sorted(entry.name for entry in dest.parent.iterdir() if entry != dest)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("../evil", b"x")], "archive member '../evil' escapes the model directory"),
        ([("a/../../evil", b"x")], "archive member 'a/../../evil' escapes the model directory"),
        ([("/tmp/greenfleet-evil", b"x")], "archive member '/tmp/greenfleet-evil' has an absolute path"),
        (
            [special("link", tarfile.SYMTYPE, "../evil")],
            "archive member 'link' is a symlink to '../evil', outside the model directory",
        ),
        (
            [special("link", tarfile.SYMTYPE, "/etc/passwd")],
            "archive member 'link' is a symlink to the absolute path '/etc/passwd'",
        ),
        (
            [special("hard", tarfile.LNKTYPE, "../evil")],
            "archive member 'hard' is a hard link to '../evil', outside the model directory",
        ),
        (
            [special("hard", tarfile.LNKTYPE, "/etc/passwd")],
            "archive member 'hard' is a hard link to the absolute path '/etc/passwd'",
        ),
        ([special("tty", tarfile.CHRTYPE)], "archive member 'tty' is a device file"),
        ([special("disk", tarfile.BLKTYPE)], "archive member 'disk' is a device file"),
        ([special("pipe", tarfile.FIFOTYPE)], "archive member 'pipe' is a FIFO"),
    ],
)
def test_hostile_members_are_refused(members: list, message: str, dest: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        extract(tarball(("ok.txt", b"fine"), *members), dest)
    assert caught.value.message == message
    assert outside(dest) == []
    assert not Path("/tmp/greenfleet-evil").exists()


def test_a_symlink_extracted_earlier_cannot_be_written_through(dest: Path, tmp_path: Path) -> None:
    (tmp_path / "sandbox").mkdir()
    dest.mkdir()
    os.symlink("..", dest / "up")  # as if an earlier step had left it (the archive itself cannot)
    with pytest.raises(ArtifactError, match="archive member 'up/evil' escapes the model directory through a symlink"):
        extract(tarball(("up/evil", b"x")), dest)
    assert outside(dest) == []


def test_the_size_limit_counts_bytes_actually_written(dest: Path) -> None:
    big = tarball(("zeros.bin", b"\0" * 5_000_000))
    assert len(big.getvalue()) < 50_000  # a small download that unpacks large
    with pytest.raises(ArtifactError) as caught:
        extract(big, dest, limit=1_000_000)
    assert caught.value.message == (
        "unpacked size exceeds the limit of 1000000 bytes (GREENFLEET_ARTIFACT_MAX_BYTES) while writing 'zeros.bin'"
    )
    assert (dest / "zeros.bin").stat().st_size <= 1_000_000


def test_the_size_limit_spans_members(dest: Path) -> None:
    with pytest.raises(ArtifactError, match=r"limit of 250 bytes .* while writing 'c'"):
        extract(tarball(("a", b"x" * 100), ("b", b"x" * 100), ("c", b"x" * 100)), dest, limit=250)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 a zip file", "archive is not gzip-compressed (expected a .tar.gz)"),
        (b"", "archive is not gzip-compressed (expected a .tar.gz)"),
        (gzip.compress(b"just some text, not a tar" * 40, mtime=0), "archive is not a tar archive"),
    ],
    ids=["zip", "empty", "gzip-text"],
)
def test_not_a_tar_gz(data: bytes, message: str, dest: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        extract(io.BytesIO(data), dest)
    assert caught.value.message.startswith(message)


def test_a_truncated_archive(dest: Path) -> None:
    data = tarball(("model.bin", os.urandom(200_000))).getvalue()
    with pytest.raises(ArtifactError, match=r"archive is (truncated|corrupt)"):
        extract(io.BytesIO(data[: len(data) // 2]), dest)


def test_a_good_archive_unpacks_with_safe_links_and_modes(dest: Path) -> None:
    script = tarfile.TarInfo("./code/run.sh")
    script.size = 2
    script.mode = 0o4755  # setuid is dropped, the executable bit kept
    directory = special("./code", tarfile.DIRTYPE)
    directory.mode = 0o755
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.addfile(directory)
        archive.addfile(script, io.BytesIO(b"hi"))
        for name, content in (("./model.joblib", b"model"), ("./model.joblib", b"model v2")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        archive.addfile(special("./latest", tarfile.SYMTYPE, "model.joblib"))
        archive.addfile(special("./code/model-link", tarfile.SYMTYPE, "../model.joblib"))
        archive.addfile(special("./copy.joblib", tarfile.LNKTYPE, "model.joblib"))
    buffer.seek(0)
    assert extract_tar(buffer, dest, SizeBudget(10**6)) == 7
    assert (dest / "model.joblib").read_bytes() == b"model v2"
    assert (dest / "latest").read_bytes() == b"model v2"
    assert (dest / "code" / "model-link").read_bytes() == b"model v2"
    assert (dest / "copy.joblib").read_bytes() == b"model v2"
    mode = (dest / "code" / "run.sh").stat().st_mode
    assert mode & 0o100 and not mode & 0o4000


def test_a_plain_tar(dest: Path) -> None:
    extract_tar(tarball(("model.pkl", b"x"), compression=""), dest, SizeBudget(10), compression="")
    assert (dest / "model.pkl").read_bytes() == b"x"
