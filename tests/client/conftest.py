from __future__ import annotations

from collections.abc import Iterator

import pytest

from greenfleet.client import Client
from tests.client.live import running_server, sklearn_models


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("client-home")) as server:
        yield server.settings.base_url


@pytest.fixture
def client(server_url: str) -> Iterator[Client]:
    with Client(server_url) as api:
        yield api


@pytest.fixture(scope="session")
def model_urls(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The two trained scikit-learn model archives of the demo (LogisticRegression, C=1.0 and C=0.1)."""
    return [str(p) for p in sklearn_models(tmp_path_factory.mktemp("models")).values()]
from tests.live.conftest import sklearn_model  # noqa: F401,E402 - a shared fixture
