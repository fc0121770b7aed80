"""Registry events reach webhook targets in EventBridge's shape; a target with a Secret gets every
delivery signed (HMAC-SHA256 of the body bytes, in X-Greenfleet-Signature)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import Api

SECRET = "a-very-secret-signing-key"


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.http.shutdown()
    made.http.server_close()


def test_package_state_changes_are_signed_webhooks(api: Api, receiver: Receiver, sklearn_model: Path) -> None:
    target = api.call("POST", "/api/event-targets", {"Url": receiver.url, "Secret": SECRET, "EventPattern": {
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["hooks"], "ModelApprovalStatus": ["Approved", "Rejected"]}}})
    assert target["Signed"] is True and "Secret" not in target
    refused = api.http.post("/api/event-targets", json={"Url": receiver.url, "Secret": "short"})
    assert refused.status_code == 400
    api.call("POST", "/api/model-package-groups", {"ModelPackageGroupName": "hooks"})
    arn = api.call("POST", "/api/model-packages", {"ModelPackageGroupName": "hooks", "InferenceSpecification": {
        "Containers": [{"Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}]}})["ModelPackageArn"]
    api.http.post("/api/model-packages/hooks/1", json={"ModelApprovalStatus": "Approved"})
    api.call("POST", "/api/model-packages", {"ModelPackageGroupName": "hooks", "ModelApprovalStatus": "Rejected",
                                             "InferenceSpecification": {"Containers": [
                                                 {"Image": "greenfleet/sklearn", "ModelDataUrl": str(sklearn_model)}]}})
    deadline = time.monotonic() + 20
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert len(receiver.received) == 2  # the pending registration does not match the detail pattern
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-greenfleet-signature"], expected)
    events = [json.loads(body) for _, body in receiver.received]
    assert sorted(e["detail"]["ModelApprovalStatus"] for e in events) == ["Approved", "Rejected"]
    last = next(e for e in events if e["detail"]["ModelApprovalStatus"] == "Approved")
    assert last["source"] == "aws.sagemaker" and last["resources"] == [arn]
    assert last["detail"]["ModelPackageVersion"] == 1 and "ModelPackageName" not in last["detail"]
    assert last["detail"]["CreationTime"].endswith("Z")  # ISO-8601 in this event, as EventBridge sends it
