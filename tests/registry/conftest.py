from collections.abc import Iterator
from typing import Any

import pytest

from greenfleet.server import Server
from tests.aws.test_sagemaker_boto3 import client
from tests.live.conftest import api, features, server, server_process, sklearn_model

__all__ = ["api", "features", "server", "server_process", "sklearn_model", "sm"]


@pytest.fixture
def sm(server: Server) -> Iterator[Any]:
    yield client(server, "sagemaker")
