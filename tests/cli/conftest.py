from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner, Result

from greenfleet.cli.main import cli
from tests.client.live import running_server, sklearn_models

Run = Callable[..., Result]


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("cli-home")) as server:
        yield server.settings.base_url


@pytest.fixture
def run(server_url: str) -> Run:
    """``run("model", "list", "--json")``: the ``greenfleet`` command against the live server."""

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env={"GREENFLEET_URL": server_url}, input=input,
                                  catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def model_urls(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The two trained scikit-learn model archives of the demo (LogisticRegression, C=1.0 and C=0.1)."""
    return [str(p) for p in sklearn_models(tmp_path_factory.mktemp("models")).values()]
