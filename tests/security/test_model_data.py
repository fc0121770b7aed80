"""ModelDataUrl reads only under the configured roots and never from link-local/metadata hosts; a
FailureReason names nothing it should not have read (issue 19 item 4)."""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pytest

from greenfleet.artifacts import ArtifactError, install_model_data
from tests.aws.servers import running_server
from tests.live.conftest import Api


@pytest.fixture
def root(tmp_path: Path) -> Path:
    allowed = tmp_path / "models"
    (allowed / "tree").mkdir(parents=True)
    (allowed / "tree" / "weights.bin").write_bytes(b"w")
    return allowed


def refused(url: str, root: Path, tmp_path: Path) -> str:
    target = tmp_path / f"model-{len(list(tmp_path.iterdir()))}"
    with pytest.raises(ArtifactError) as info:
        install_model_data(url, target, max_bytes=10**6, roots=[root], allow_link_local=False)
    copied = [p for p in target.rglob("*") if p.is_file()]
    assert all(p.read_bytes() == b"w" for p in copied), "only the allowed file may have been copied"
    return info.value.message


def test_local_paths_stay_under_the_roots(root: Path, tmp_path: Path) -> None:
    install_model_data(str(root / "tree"), tmp_path / "ok", max_bytes=10**6, roots=[root])
    assert (tmp_path / "ok" / "weights.bin").read_bytes() == b"w"
    for url in ("/etc/passwd", "file:///etc/passwd", "/etc/ssl", f"{root}/../../../../../../etc/hostname",
                f"{root}/missing/../../secret"):
        message = refused(url, root, tmp_path)
        assert "outside the directories model data may be read from" in message
        assert "root:" not in message and "no such file" not in message  # neither content nor existence
    # a link inside an allowed directory that points outside it
    (root / "tree" / "passwd").symlink_to("/etc/passwd")
    message = refused(str(root / "tree"), root, tmp_path)
    assert "'passwd' (a link)" in message and "/etc" not in message.split("GREENFLEET_MODEL_DATA_ROOTS")[0]
    (root / "tree" / "passwd").unlink()
    os.symlink("/etc", root / "etc")
    assert "outside" in refused(str(root / "etc"), root, tmp_path)


def test_link_local_and_metadata_hosts_are_refused(root: Path, tmp_path: Path) -> None:
    for url in ("http://169.254.169.254/latest/meta-data/iam/model.tar.gz", "http://[fe80::1]/model.tar.gz",
                "http://[fd00:ec2::254]/model.tar.gz"):
        assert "link-local or cloud metadata address" in refused(url, root, tmp_path)


class _Redirect(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/model.tar.gz")
        self.end_headers()


def test_a_redirect_to_the_metadata_address_is_refused(root: Path, tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        message = refused(f"http://127.0.0.1:{server.server_address[1]}/model.tar.gz", root, tmp_path)
    finally:
        server.shutdown()
    assert "host '169.254.169.254' is a link-local or cloud metadata address" in message


def test_the_failure_reason_of_an_endpoint_reading_etc_passwd(tmp_path: Path) -> None:
    with running_server(tmp_path / "home", model_data_roots=str(tmp_path / "models")) as server:
        api = Api(server.settings.base_url)
        api.call("POST", "/api/models", {"ModelName": "m", "PrimaryContainer": {
            "Image": "greenfleet/sklearn", "ModelDataUrl": "file:///etc/passwd"}})
        api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "c", "ProductionVariants": [
            {"VariantName": "a", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
        api.call("POST", "/api/endpoints", {"EndpointName": "e", "EndpointConfigName": "c"})
        reason = api.wait_status("e", "Failed")["FailureReason"]
        api.http.close()
    assert "outside the directories model data may be read from" in reason and "root:" not in reason
