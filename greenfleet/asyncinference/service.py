"""InvokeEndpointAsync: check the request as SageMaker does, keep it in the durable queue, answer 202.

An inline ``Body`` (at most 128,000 bytes) is spooled to a file in the server's home (synced before the
request is recorded); an ``InputLocation`` is checked to exist and read only when the request runs. The
output is named ``<S3OutputPath>/<S3OutputPathExtension>/<Filename or InferenceId.out>``, a failure
``<S3FailurePath or S3OutputPath>/<InferenceId>-error.out``."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from greenfleet.asyncinference.locations import LocationError, Locations, join
from greenfleet.asyncinference.queue import Queue
from greenfleet.clock import Clock
from greenfleet.errors import ValidationError
from greenfleet.resources.endpoint_state import DesiredState, Fleet
from greenfleet.store.repository import Repository

MAX_INLINE_BODY = 128_000
TTL_RANGE = (60, 21600)
TIMEOUT_RANGE = (1, 3600)
_FILENAME = re.compile(r"^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9-_\.]*$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]{1,64}$")
PREFIX = "x-amzn-sagemaker-"


@dataclass(frozen=True)
class Accepted:
    inference_id: str
    output_location: str
    failure_location: str


class AsyncInvocations:
    def __init__(self, repo: Repository, queue: Queue, locations: Locations, clock: Clock, spool: Path,
                 account_id: str) -> None:
        self.repo, self.queue, self.locations, self.clock = repo, queue, locations, clock
        self.spool = spool
        self.spool.mkdir(parents=True, exist_ok=True)
        self.account_id = account_id
        self.accepted: Callable[[], None] = lambda: None
        """Called after a request was queued (the server wakes the dispatcher with it)."""

    def invoke_async(self, endpoint_name: str, headers: Mapping[str, str], body: bytes) -> Accepted:
        """``headers`` lower-cased; ``body`` the inline payload (empty when InputLocation is given)."""
        given = {k[len(PREFIX):]: v for k, v in headers.items() if k.startswith(PREFIX)}
        input_location = given.get("inputlocation")
        if bool(input_location) == bool(body):
            raise ValidationError("Body and InputLocation are mutually exclusive. Provide exactly one.")
        if len(body) > MAX_INLINE_BODY:
            raise ValidationError(f"Body: the inline payload is {len(body)} bytes; at most {MAX_INLINE_BODY} bytes "
                                  "may be sent inline (put larger payloads at an InputLocation)")
        ttl = _bounded(given.get("requestttlseconds"), "RequestTTLSeconds", TTL_RANGE, 21600)
        timeout = _bounded(given.get("invocationtimeoutseconds"), "InvocationTimeoutSeconds", TIMEOUT_RANGE, 900)
        inference_id = given.get("inference-id") or str(uuid.uuid4())
        if not _PRINTABLE.match(inference_id):
            raise ValidationError("InferenceId: 1 to 64 printable ASCII characters")
        filename = given.get("filename")
        if filename is not None and (len(filename) > 32 or not _FILENAME.match(filename)):
            raise ValidationError(f"Value '{filename}' at 'filename' failed to satisfy constraint: Member must "
                                  r"satisfy regular expression pattern: ^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9-_\.]*$")
        extension = given.get("s3outputpathextension")
        if extension is not None and (not 1 <= len(extension) <= 512
                                      or extension.lower().startswith(("s3:", "https:"))):
            raise ValidationError("S3OutputPathExtension: 1 to 512 characters, not a URL (s3:, https:)")
        for name in ("content-type", "accept", "custom-attributes"):
            value = given.get(name)
            if value is not None and (len(value) > 1024 or not value.isascii()):
                raise ValidationError(f"{name}: at most 1024 ASCII characters")
        fleet = self._async_fleet(endpoint_name)
        if input_location:
            try:
                self.locations.check_url(input_location, "InputLocation")
                self.locations.check_input(input_location)
            except LocationError as exc:
                raise ValidationError(str(exc)) from exc
        config = fleet.asynchronous
        assert config is not None
        output = join(config.output_path, extension or "", filename or f"{inference_id}.out")
        failure = join(config.failure_path or config.output_path, f"{inference_id}-error.out")
        now = self.clock.now()
        spooled = not input_location
        if spooled:
            input_location = self._spool(body)
        try:
            self.queue.add({
                "endpoint_name": endpoint_name, "inference_id": inference_id, "input_location": input_location,
                "spooled": spooled, "content_type": given.get("content-type"), "accept": given.get("accept"),
                "custom_attributes": given.get("custom-attributes"), "output_location": output,
                "failure_location": failure, "notification": config.notification, "invocation_timeout_s": timeout,
                "created_at": now, "expires_at": now + ttl})
        except ValidationError:
            if spooled:
                self.locations.delete(input_location or "")
            raise
        self.accepted()
        return Accepted(inference_id, output, failure)

    def _async_fleet(self, endpoint_name: str) -> Fleet:
        row = self.repo.get_endpoint(endpoint_name)
        if row is None:
            raise ValidationError(f"Endpoint {endpoint_name} of account {self.account_id} not found.")
        state: DesiredState = row["state"]
        fleet = state.current
        if fleet.asynchronous is None:
            raise ValidationError(f"Endpoint {endpoint_name} is not an asynchronous endpoint (its endpoint "
                                  "configuration has no AsyncInferenceConfig): invoke it with InvokeEndpoint.")
        return fleet

    def _spool(self, body: bytes) -> str:
        path = self.spool / uuid.uuid4().hex
        with open(path, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        return path.as_uri()


def _bounded(text: str | None, name: str, bounds: tuple[int, int], default: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(f"{name}: '{text}' is not a whole number of seconds") from None
    if not bounds[0] <= value <= bounds[1]:
        raise ValidationError(f"Value '{value}' at '{name[0].lower() + name[1:]}' failed to satisfy constraint: "
                              f"Member must have value between {bounds[0]} and {bounds[1]}")
    return value
