"""The registry's artifact store: at registration a version's model data is fetched (through
``greenfleet.artifacts``, so every scheme and every safety check of ModelDataUrl applies), normalised
into a deterministic ``model.tar.gz`` (files in name order, zeroed times and owners, gzip without a
timestamp) and kept under its sha256, so the same content always has the same digest and a registered
version serves the same bytes forever, whatever happens to the source afterwards.

The store is ``{GREENFLEET_HOME}/registry/artifacts/sha256/<hex>.tar.gz``, or, with
``GREENFLEET_REGISTRY_S3_URI=s3://bucket/prefix``, the object ``<prefix>/sha256/<hex>.tar.gz`` there."""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenfleet.artifacts import ArtifactError, describe_url, install_model_data

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    sha256: str
    uri: str
    size: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"Sha256": self.sha256, "Uri": self.uri, "Bytes": self.size, "SourceUri": self.source}


def _digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def pack(directory: Path, archive: Path) -> None:
    """A tar.gz of ``directory`` whose bytes depend only on the files' names, modes and contents."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink())
    if not files:
        raise ArtifactError("the model data holds no file")
    with archive.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            info = tarfile.TarInfo(path.relative_to(directory).as_posix())
            info.size = path.stat().st_size
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as stream:
                tar.addfile(info, stream)


class ArtifactStore:
    def __init__(self, home: Path, *, max_bytes: int, s3_endpoint_url: str | None = None,
                 s3_uri: str | None = None) -> None:
        self.root = home / "registry" / "artifacts"
        self.max_bytes = max_bytes
        self.s3_endpoint_url = s3_endpoint_url
        self.s3_uri = s3_uri.rstrip("/") if s3_uri else None

    def keep(self, url: str, label: str = "ModelDataUrl") -> StoredArtifact:
        """Fetch ``url``, normalise it and keep it under its digest (already kept content is reused)."""
        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=staging) as tmp:
            model_dir, archive = Path(tmp) / "model", Path(tmp) / "model.tar.gz"
            install_model_data(url, model_dir, max_bytes=self.max_bytes, s3_endpoint_url=self.s3_endpoint_url,
                               label=label)
            pack(model_dir, archive)
            sha, size = _digest(archive), archive.stat().st_size
            uri = self._upload(archive, sha) if self.s3_uri else self._place(archive, sha)
        return StoredArtifact(sha, uri, size, describe_url(url))

    def adopt(self, archive: Path, sha: str, source: str) -> tuple[StoredArtifact, bool]:
        """Keep ``archive``, an already normalised model.tar.gz another greenfleet server kept under
        ``sha`` (a promotion), after checking that its bytes have that digest. Returns what is kept and
        whether this call placed it (False: the store already held it), so a failed promotion can remove it."""
        actual = _digest(archive)
        if actual != sha:
            raise ArtifactError(f"the artifact received has sha256 {actual}, not the {sha} it was sent as; "
                                "nothing was kept")
        size = archive.stat().st_size
        if self.s3_uri:
            return StoredArtifact(sha, self._upload(archive, sha), size, source), False
        placed = not (self.root / "sha256" / f"{sha}.tar.gz").exists()
        return StoredArtifact(sha, self._place(archive, sha), size, source), placed

    def discard(self, artifact: StoredArtifact) -> None:
        """Remove a kept artifact that :meth:`adopt` placed for a promotion that then failed."""
        if not artifact.uri.startswith("s3://"):
            Path(artifact.uri).unlink(missing_ok=True)

    def local_file(self, artifact: dict[str, Any]) -> tuple[Path, bool]:
        """The kept model.tar.gz as a local file, and whether it is a temporary copy (downloaded from S3
        into staging) that the caller removes when done."""
        uri = str(artifact["Uri"])
        if not uri.startswith("s3://"):
            if not Path(uri).is_file():
                raise ArtifactError(f"the registered artifact {uri} is missing from the artifact store")
            return Path(uri), False
        from greenfleet.artifacts.s3 import S3Location, download_file  # boto3 is slow to import

        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=staging, suffix=".tar.gz")
        os.close(handle)
        try:
            download_file(S3Location(uri), Path(name), self.s3_endpoint_url)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name), True

    def _place(self, archive: Path, sha: str) -> str:
        target = self.root / "sha256" / f"{sha}.tar.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.replace(archive, target)
        return str(target)

    def _upload(self, archive: Path, sha: str) -> str:
        from greenfleet.artifacts.s3 import S3Location, upload_file  # boto3 is slow to import

        uri = f"{self.s3_uri}/sha256/{sha}.tar.gz"
        location = S3Location(uri)
        upload_file(archive, location, self.s3_endpoint_url)
        return uri

    def verify(self, artifact: dict[str, Any]) -> None:
        """Refuse to serve a kept artifact that is gone or whose bytes changed (local store only; S3
        objects are checked by the worker's download)."""
        uri = str(artifact["Uri"])
        if uri.startswith("s3://"):
            return
        path = Path(uri)
        if not path.is_file():
            raise ArtifactError(f"the registered artifact {uri} is missing from the artifact store")
        if path.stat().st_size != artifact["Bytes"] or _digest(path) != artifact["Sha256"]:
            raise ArtifactError(f"the registered artifact {uri} no longer matches its sha256 {artifact['Sha256']}")
