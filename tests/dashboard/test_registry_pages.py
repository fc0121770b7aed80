"""The registry pages' content over real HTTP from a real server (no browser): empty states, the baseline a
version's metrics are compared with when no endpoint is bound (the newest other Approved version), and
what a version without metrics or lineage shows."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("registry-pages")
    server = Server(Settings(home=root / "home", port=free_port(), **FAST))
    server.start_in_thread()
    with httpx.Client(base_url=server.settings.base_url) as http:
        yield http
    server.stop_thread()


def tight(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


def model(root: Path) -> str:
    (root / "model.joblib").write_bytes(b"not really a model")
    archive = root / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "model.joblib", arcname="model.joblib")
    return str(archive)


def register(http: httpx.Client, root: Path, version: int, accuracy: float | None, status: str) -> None:
    body: dict[str, object] = {"ModelPackageGroupName": "fraud", "ModelApprovalStatus": status,
                               "InferenceSpecification": {"Containers": [
                                   {"Image": "greenfleet/sklearn", "ModelDataUrl": model(root)}]}}
    if accuracy is not None:
        report = root / f"v{version}.json"
        report.write_text(json.dumps({"accuracy": accuracy}))
        body["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                                "S3Uri": str(report)}}}
    assert http.post("/api/model-packages", json=body).status_code == 201


def test_empty_registry_and_empty_group(client: httpx.Client) -> None:
    assert "No model package groups." in client.get("/ui/registry").text
    assert client.post("/api/model-package-groups", json={"ModelPackageGroupName": "empty"}).status_code == 201
    group = client.get("/ui/registry/empty").text
    assert "No endpoint is bound to this group." in group and "No version yet." in group
    assert "0 · 0 Approved · 0 pending · 0 Rejected" in " ".join(client.get("/ui/fragments/registry").text.split())
    assert client.get("/ui/registry/empty/7").status_code == 404


def test_without_a_binding_a_version_is_compared_with_the_newest_other_approved(
        client: httpx.Client, tmp_path: Path) -> None:
    assert client.post("/api/model-package-groups", json={"ModelPackageGroupName": "fraud"}).status_code == 201
    register(client, tmp_path, 1, 0.8, "Approved")
    register(client, tmp_path, 2, 0.85, "Approved")
    register(client, tmp_path, 3, 0.84, "PendingManualApproval")
    register(client, tmp_path, 4, None, "PendingManualApproval")
    page = client.get("/ui/registry/fraud/3")
    assert page.status_code == 200
    html = tight(page.text)
    assert "Version 2 (newest other Approved)" in html
    assert "<td>0.84</td><td>0.85</td>" in html and "▼</span> -0.01" in html
    bare = client.get("/ui/registry/fraud/4/fragments/live").text
    assert "No metrics were registered with this version" in bare and "Model data digest" in bare
    newest = client.get("/ui/registry/fraud/2").text  # the newest Approved is compared with the one before it
    assert "Version 1 (newest other Approved)" in newest and "▲</span> +0.05" in newest


def test_a_versions_evidence_shows_in_its_audit_trail(client: httpx.Client, tmp_path: Path) -> None:
    assert client.post("/api/model-package-groups", json={"ModelPackageGroupName": "checked"}).status_code == 201
    body = {"ModelPackageGroupName": "checked", "InferenceSpecification": {"Containers": [
        {"Image": "greenfleet/sklearn", "ModelDataUrl": model(tmp_path)}]}}
    assert client.post("/api/model-packages", json=body).status_code == 201
    for check, status in (("integration", "Passed"), ("load", "Failed")):
        answer = client.post("/api/model-packages/checked/1/evidence", json={"Check": check, "Status": status},
                             headers={"X-Greenfleet-Caller": "qa"})
        assert answer.status_code == 201, answer.text
    html = tight(client.get("/ui/registry/checked/1/fragments/live").text)
    assert "evidence: integration" in html and "evidence: load" in html
    assert re.search(r"evidence: integration</td><td><span[^>]*good[^>]*>", html), html
    assert re.search(r"evidence: load</td><td><span[^>]*bad[^>]*>", html), html
