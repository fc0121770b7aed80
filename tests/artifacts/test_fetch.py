"""ModelDataUrl schemes: local path, file://, http:// (a loopback server) and s3:// (moto's server)."""

from __future__ import annotations

import functools
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from greenfleet.artifacts import ArtifactError, describe_url, install_model_data
from tests.artifacts.s3 import moto_s3
from tests.conftest import free_port


def make_tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A directory holding model.tar.gz, a single model.joblib and an uncompressed model directory."""
    root = tmp_path / "source"
    root.mkdir()
    make_tarball(root / "model.tar.gz", {"model.joblib": b"joblib bytes", "code/inference.py": b"# code"})
    (root / "model.joblib").write_bytes(b"single")
    (root / "tree" / "sub").mkdir(parents=True)
    (root / "tree" / "MLmodel").write_text("flavors: {}")
    (root / "tree" / "sub" / "weights.bin").write_bytes(b"w" * 100)
    return root


def test_local_tarball(source: Path, tmp_path: Path) -> None:
    install_model_data(str(source / "model.tar.gz"), tmp_path / "model", max_bytes=10**6)
    assert (tmp_path / "model" / "model.joblib").read_bytes() == b"joblib bytes"
    assert (tmp_path / "model" / "code" / "inference.py").exists()


def test_file_url(source: Path, tmp_path: Path) -> None:
    install_model_data((source / "model.tar.gz").as_uri(), tmp_path / "model", max_bytes=10**6)
    assert (tmp_path / "model" / "model.joblib").exists()


def test_local_single_file(source: Path, tmp_path: Path) -> None:
    install_model_data(str(source / "model.joblib"), tmp_path / "model", max_bytes=10**6)
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["model.joblib"]


def test_local_directory(source: Path, tmp_path: Path) -> None:
    install_model_data(str(source / "tree"), tmp_path / "model", max_bytes=10**6)
    assert (tmp_path / "model" / "MLmodel").exists()
    assert (tmp_path / "model" / "sub" / "weights.bin").stat().st_size == 100


def test_local_directory_over_the_limit(source: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"tree: unpacked size exceeds the limit of 50 bytes .*weights\.bin"):
        install_model_data(str(source / "tree"), tmp_path / "model", max_bytes=50)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        install_model_data(str(tmp_path / "nope.tar.gz"), tmp_path / "model", max_bytes=10)
    assert caught.value.message == f"ModelDataUrl {tmp_path / 'nope.tar.gz'}: no such file or directory"


def test_unsupported_scheme(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"ModelDataUrl ftp://host/m\.tar\.gz: unsupported URL scheme 'ftp'"):
        install_model_data("ftp://host/m.tar.gz", tmp_path / "model", max_bytes=10)


def test_describe_url_drops_credentials_and_signatures() -> None:
    assert describe_url("https://user:secret@host:8443/m.tar.gz?X-Amz-Signature=abc") == "https://host:8443/m.tar.gz"
    assert describe_url("s3://bucket/key") == "s3://bucket/key"
    assert describe_url("/local/path") == "/local/path"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(source: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(source)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_tarball(http_root: str, tmp_path: Path) -> None:
    install_model_data(f"{http_root}/model.tar.gz", tmp_path / "model", max_bytes=10**6)
    assert (tmp_path / "model" / "model.joblib").read_bytes() == b"joblib bytes"


def test_http_single_file(http_root: str, tmp_path: Path) -> None:
    install_model_data(f"{http_root}/model.joblib?token=abc", tmp_path / "model", max_bytes=10**6)
    assert (tmp_path / "model" / "model.joblib").read_bytes() == b"single"


def test_http_404_is_named_without_the_query(http_root: str, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        install_model_data(f"{http_root}/missing.tar.gz?sig=secret", tmp_path / "model", max_bytes=10)
    assert caught.value.message == f"ModelDataUrl {http_root}/missing.tar.gz: HTTP 404 File not found"


def test_http_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/model.tar.gz"
    with pytest.raises(ArtifactError, match=f"ModelDataUrl {url}: download failed: ConnectError"):
        install_model_data(url, tmp_path / "model", max_bytes=10)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str, source: Path) -> str:
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"models-{free_port()}"
    client.create_bucket(Bucket=name)
    client.upload_file(str(source / "model.tar.gz"), name, "jobs/42/output/model.tar.gz")
    client.upload_file(str(source / "model.joblib"), name, "single/model.joblib")
    client.put_object(Bucket=name, Key="prefix/MLmodel", Body=b"flavors: {}")
    client.put_object(Bucket=name, Key="prefix/sub/weights.bin", Body=b"w" * 10)
    client.put_object(Bucket=name, Key="prefix/extra.tar.gz", Body=b"copied, not unpacked")
    return name


def test_s3_tarball(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    url = f"s3://{bucket}/jobs/42/output/model.tar.gz"
    install_model_data(url, tmp_path / "model", max_bytes=10**6, s3_endpoint_url=s3_endpoint)
    assert (tmp_path / "model" / "model.joblib").read_bytes() == b"joblib bytes"


def test_s3_single_object(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    url = f"s3://{bucket}/single/model.joblib"
    install_model_data(url, tmp_path / "model", max_bytes=10**6, s3_endpoint_url=s3_endpoint)
    assert (tmp_path / "model" / "model.joblib").read_bytes() == b"single"


@pytest.mark.parametrize("key", ["prefix", "prefix/"])
def test_s3_prefix(s3_endpoint: str, bucket: str, tmp_path: Path, key: str) -> None:
    install_model_data(f"s3://{bucket}/{key}", tmp_path / "model", max_bytes=10**6, s3_endpoint_url=s3_endpoint)
    assert (tmp_path / "model" / "MLmodel").exists()
    assert (tmp_path / "model" / "sub" / "weights.bin").read_bytes() == b"w" * 10
    assert (tmp_path / "model" / "extra.tar.gz").read_bytes() == b"copied, not unpacked"


def test_s3_hostile_archive_is_refused(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    evil = make_tarball(tmp_path / "evil.tar.gz", {"../evil": b"x"})
    boto3.client("s3", endpoint_url=s3_endpoint).upload_file(str(evil), bucket, "evil/model.tar.gz")
    with pytest.raises(ArtifactError) as caught:
        install_model_data(
            f"s3://{bucket}/evil/model.tar.gz", tmp_path / "m" / "model", max_bytes=100, s3_endpoint_url=s3_endpoint
        )
    assert caught.value.message == (
        f"ModelDataUrl s3://{bucket}/evil/model.tar.gz: archive member '../evil' escapes the model directory"
    )
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["model"]


def test_s3_missing_key(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=f"no object or prefix 'nothing/here.tar.gz' in bucket '{bucket}'"):
        install_model_data(
            f"s3://{bucket}/nothing/here.tar.gz", tmp_path / "model", max_bytes=10, s3_endpoint_url=s3_endpoint
        )


def test_s3_missing_bucket(s3_endpoint: str, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="bucket 'no-such-bucket' does not exist"):
        install_model_data(
            "s3://no-such-bucket/m.tar.gz", tmp_path / "model", max_bytes=10, s3_endpoint_url=s3_endpoint
        )
