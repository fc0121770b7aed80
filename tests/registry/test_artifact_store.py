"""The registry's artifact store: deterministic archives under their sha256, locally or in S3 (moto's
server), and metrics reports read from s3://."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import boto3
import pytest

from greenfleet.errors import ValidationError
from greenfleet.registry.artifacts import ArtifactStore
from greenfleet.registry.evaluation import key_metrics, read_all
from tests.artifacts.s3 import moto_s3
from tests.artifacts.test_fetch import QuietHandler


def model_dir(root: Path) -> Path:
    (root / "code").mkdir(parents=True)
    (root / "model.bin").write_bytes(b"weights")
    (root / "code" / "inference.py").write_text("def model_fn(d):\n    return d\n")
    return root


def test_the_same_content_has_the_same_digest_whatever_its_packaging(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "home", max_bytes=10**7)
    source = model_dir(tmp_path / "src")
    from_dir = store.keep(str(source))
    tarball = tmp_path / "model.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:  # other times, owners and order
        tar.add(source / "code" / "inference.py", arcname="code/inference.py")
        tar.add(source / "model.bin", arcname="model.bin")
    from_tar = store.keep(f"file://{tarball}")
    assert from_dir.sha256 == from_tar.sha256 and from_dir.uri == from_tar.uri
    assert hashlib.sha256(Path(from_dir.uri).read_bytes()).hexdigest() == from_dir.sha256
    with tarfile.open(from_dir.uri) as tar:
        assert tar.getnames() == ["code/inference.py", "model.bin"]
    Path(from_dir.uri).write_bytes(b"tampered")
    with pytest.raises(ValidationError, match="no longer matches its sha256"):
        store.verify(from_dir.to_dict())


def test_metrics_over_http_and_an_unreachable_source(tmp_path: Path) -> None:
    import functools
    import http.server
    import threading

    root = tmp_path / "site"
    root.mkdir()
    (root / "evaluation.json").write_text(json.dumps({"accuracy": 0.75}))
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        ok = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": f"{base}/evaluation.json"}}}
        assert key_metrics(read_all(ok, tmp_path / "staging", None)) == {"accuracy": 0.75}
        gone = {"Bias": {"Report": {"ContentType": "application/json", "S3Uri": f"{base}/missing.json"}}}
        with pytest.raises(ValidationError, match=r"ModelMetrics\.Bias\.Report\.S3Uri .*404"):
            read_all(gone, tmp_path / "staging", None)
    finally:
        server.shutdown()
        server.server_close()


def test_artifacts_and_metrics_in_s3(tmp_path: Path) -> None:
    with moto_s3() as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="registry")
        report = json.dumps({"regression_metrics": {"mse": {"value": 1.5}}}).encode()
        s3.put_object(Bucket="registry", Key="eval/evaluation.json", Body=report)
        store = ArtifactStore(tmp_path / "home", max_bytes=10**7, s3_endpoint_url=endpoint,
                              s3_uri="s3://registry/kept")
        kept = store.keep(str(model_dir(tmp_path / "src")))
        assert kept.uri == f"s3://registry/kept/sha256/{kept.sha256}.tar.gz"
        body = s3.get_object(Bucket="registry", Key=f"kept/sha256/{kept.sha256}.tar.gz")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == kept.sha256
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            assert tar.getnames() == ["code/inference.py", "model.bin"]
        metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                   "S3Uri": "s3://registry/eval/evaluation.json"}}}
        read = read_all(metrics, tmp_path / "staging", endpoint)
        assert key_metrics(read) == {"mse": 1.5}
        assert read["ModelMetrics.ModelQuality.Statistics"]["ContentDigest"] == \
            "sha256:" + hashlib.sha256(report).hexdigest()
        wrong = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "ContentDigest": "sha256:00",
                                                 "S3Uri": "s3://registry/eval/evaluation.json"}}}
        with pytest.raises(ValidationError, match="does not match"):
            read_all(wrong, tmp_path / "staging", endpoint)
