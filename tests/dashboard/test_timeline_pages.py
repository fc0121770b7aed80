"""The lifecycle timeline's pages over real HTTP from real servers (no browser, no worker processes): a version
promoted from another server shows where it came from; registrations, approvals and rejections appear in order
with who decided and why; a group without a binding says so; an unknown group is a 404; the index lists the
groups. Deployments, shadow tests and monitoring on the timeline are checked on the MLOps example's real run
(tests/examples/test_mlops_example.py)."""

from __future__ import annotations

import html
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from greenfleet import Client
from greenfleet.registry.promotion import promote
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.live.conftest import FAST


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Client]]:
    root = tmp_path_factory.mktemp("timeline-pages")
    made = [Server(Settings(home=root / name, port=free_port(), **FAST)) for name in ("dev", "prod")]
    for server in made:
        server.start_in_thread()
    clients = (Client(made[0].settings.base_url), Client(made[1].settings.base_url))
    yield clients
    for client in clients:
        client.close()
    for server in made:
        server.stop_thread()


def text(page: str) -> str:
    """The page's words, tags dropped, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def model(root: Path) -> str:
    (root / "model.joblib").write_bytes(b"not really a model")
    archive = root / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "model.joblib", arcname="model.joblib")
    return str(archive)


def test_promotions_and_decisions_in_order(servers: tuple[Client, Client], tmp_path: Path) -> None:
    dev, prod = servers
    dev.create_model_package_group(ModelPackageGroupName="churn", by="platform")
    for _ in range(2):
        dev.create_model_package(by="pipeline", ModelPackageGroupName="churn", ModelApprovalStatus="Approved",
                                 InferenceSpecification={"Containers": [
                                     {"Image": "greenfleet/sklearn", "ModelDataUrl": model(tmp_path)}]})
    promote(dev, prod, "churn/1", "release-pipeline")
    promote(dev, prod, "churn/2", "release-pipeline")
    prod.update_model_package("churn/1", by="ana", ModelApprovalStatus="Approved", ApprovalDescription="looks good")
    prod.update_model_package("churn/2", by="bob", ModelApprovalStatus="Rejected",
                              ApprovalDescription="worse in the shadow test")
    prod_url, dev_url = prod.base_url, dev.base_url
    page = httpx.get(f"{prod_url}/ui/timeline/churn")
    assert page.status_code == 200
    words = text(page.text)
    assert "No endpoint is bound to this group." in words
    assert "4 events: 0 registered, 2 promoted, 2 approval, 0 deployment, 0 shadow-test, 0 monitoring" in words
    kinds = re.findall(r'data-kind="([a-z-]+)"', page.text)
    assert kinds == ["promoted", "promoted", "approval", "approval"]
    assert f"v1 promoted here ‖ PendingManualApproval from {dev_url} " \
           "arn:aws:sagemaker:us-east-1:000000000000:model-package/churn/1; by release-pipeline" in words
    assert words.index("v1 Approved ✓ Approved by ana: looks good") < \
        words.index("v2 Rejected ✖ Rejected by bob: worse in the shadow test")
    source = text(httpx.get(f"{dev_url}/ui/timeline/churn").text)  # on dev: registered, not promoted
    assert "2 events: 2 registered, 0 promoted" in source and "v1 registered ✓ Approved by pipeline" in source
    live = httpx.get(f"{prod_url}/ui/timeline/churn/fragments/live")
    assert live.status_code == 200 and text(live.text).count("promoted here") == 2
    index = text(httpx.get(f"{prod_url}/ui/timeline").text)
    assert "churn (2 versions)" in index
    assert 'href="/ui/timeline"' in page.text  # in the navigation
    assert 'href="/ui/timeline/churn"' in httpx.get(f"{prod_url}/ui/registry/churn").text


def test_an_unknown_group_is_not_found(servers: tuple[Client, Client]) -> None:
    page = httpx.get(f"{servers[1].base_url}/ui/timeline/nothing-here")
    assert page.status_code == 404 and "nothing-here" in page.text
