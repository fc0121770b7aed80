"""InvokeEndpointAsync's checks of where a request's output and failure go, against real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenfleet.asyncinference.locations import Locations
from greenfleet.asyncinference.queue import Queue
from greenfleet.asyncinference.service import AsyncInvocations
from greenfleet.clock import FakeClock
from greenfleet.errors import ValidationError
from greenfleet.resources.endpoint_state import AsyncConfig
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.repository import Repository


@pytest.mark.parametrize("escape", [{"s3outputpathextension": "%2e%2e"},
                                    {"s3outputpathextension": "a/%2E%2E/%2e%2e"},
                                    {"inference-id": "%2e%2e/%2e%2e/x"}, {"s3outputpathextension": "..%2fx"}])
def test_an_encoded_dot_dot_cannot_leave_a_file_output_path(tmp_path: Path, escape: dict[str, str]) -> None:
    """A file:// location is unquoted when resolved, so '%2e%2e' is a '..' segment there like '..' itself:
    refused, rather than written outside S3OutputPath (here over the input file next to out/)."""
    (tmp_path / "in.csv").write_text("1,2")
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    locations = Locations(None, [tmp_path])
    invocations = AsyncInvocations(Repository(engine), Queue(engine), locations, FakeClock(), "123456789012")
    config = AsyncConfig(max_concurrent=1, output_path=(tmp_path / "out").as_uri())
    headers = {f"x-amzn-sagemaker-{k}": v for k, v in escape.items()} | {"x-amzn-sagemaker-filename": "in.csv"}
    with pytest.raises(ValidationError, match=r"'\.\.' path segment"):
        invocations.prepare("ep", headers, b"1", lambda name: config)
