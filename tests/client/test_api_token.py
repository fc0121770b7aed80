"""With GREENFLEET_API_TOKEN set, the native API wants the bearer token; the client and CLI send it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from greenfleet.cli.main import cli
from greenfleet.client import ApiError, Client
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Server]:
    server = Server(Settings(home=tmp_path / "home", port=free_port(), api_token="s3cret"))
    server.start_in_thread()
    yield server
    server.stop_thread()


def test_the_api_needs_the_token_and_the_client_and_cli_send_it(guarded: Server) -> None:
    url = guarded.settings.base_url
    refused = httpx.get(f"{url}/api/models")
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(ApiError) as info, Client(url, token="wrong") as client:
        client.list_models()
    assert info.value.status == 401
    with Client(url, token="s3cret") as client:
        client.create_model(ModelName="m", PrimaryContainer={"Image": "greenfleet/sklearn"})
        assert [m["ModelName"] for m in client.list_models()["Models"]] == ["m"]
    assert httpx.get(f"{url}/health").status_code == 200  # liveness stays open
    result = CliRunner().invoke(cli, ["--token", "s3cret", "model", "list", "--url", url, "--json"])
    assert result.exit_code == 0 and '"m"' in result.output
    denied = CliRunner().invoke(cli, ["model", "list", "--url", url])
    assert denied.exit_code == 1
