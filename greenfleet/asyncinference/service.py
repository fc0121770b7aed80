"""InvokeEndpointAsync: check the request as SageMaker does, keep it in the durable queue, answer 202.

An inline ``Body`` (at most 128,000 bytes) is kept in the request's row; an ``InputLocation`` is checked to
exist and read only when the request runs. The endpoint's AsyncInferenceConfig is read from the store once
per routing-table revision (the table changes whenever an endpoint's fleets do), not once per request. The
output is named ``<S3OutputPath>/<S3OutputPathExtension>/<Filename or InferenceId.out>``, a failure
``<S3FailurePath or S3OutputPath>/<InferenceId>-error.out``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from greenfleet.asyncinference.ids import new_id
from greenfleet.asyncinference.locations import LocationError, Locations, join
from greenfleet.asyncinference.queue import Queue
from greenfleet.clock import Clock
from greenfleet.errors import ValidationError
from greenfleet.resources.endpoint_state import AsyncConfig, DesiredState
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


@dataclass(frozen=True)
class Prepared:
    row: dict[str, Any]
    accepted: Accepted
    input_location: str | None


class AsyncInvocations:
    def __init__(self, repo: Repository, queue: Queue, locations: Locations, clock: Clock, account_id: str,
                 revision: Callable[[], int] = lambda: 0) -> None:
        self.repo, self.queue, self.locations, self.clock = repo, queue, locations, clock
        self.account_id = account_id
        self.revision = revision
        """The router's routing-table revision (the cache of endpoint configs is dropped when it changes)."""
        self._configs: dict[str, AsyncConfig] = {}
        self._configs_revision = -1
        self.accepted: Callable[[], None] = lambda: None
        """Called after a request was queued (the server wakes the dispatcher with it)."""

    def invoke_async(self, endpoint_name: str, headers: Mapping[str, str], body: bytes) -> Accepted:
        """``headers`` lower-cased; ``body`` the inline payload (empty when InputLocation is given). Blocks:
        reads the endpoint's config on a cache miss, checks the input object, commits the row."""
        prepared = self.prepare(endpoint_name, headers, body, self._async_config)
        if prepared.input_location:
            try:
                self.locations.check_url(prepared.input_location, "InputLocation")
                self.locations.check_input(prepared.input_location)
            except LocationError as exc:
                raise ValidationError(str(exc)) from exc
        self.queue.add(prepared.row)
        self.accepted()
        return prepared.accepted

    def prepare(self, endpoint_name: str, headers: Mapping[str, str], body: bytes,
                config_of: Callable[[str], AsyncConfig]) -> Prepared:
        """Check the request (no I/O but ``config_of``'s) and make its row; the input object is not checked."""
        given = {k[len(PREFIX):]: v for k, v in headers.items() if k.startswith(PREFIX)}
        input_location = given.get("inputlocation")
        if bool(input_location) == bool(body):
            raise ValidationError("Body and InputLocation are mutually exclusive. Provide exactly one.")
        if len(body) > MAX_INLINE_BODY:
            raise ValidationError(f"Body: the inline payload is {len(body)} bytes; at most {MAX_INLINE_BODY} bytes "
                                  "may be sent inline (put larger payloads at an InputLocation)")
        ttl = _bounded(given.get("requestttlseconds"), "RequestTTLSeconds", TTL_RANGE, 21600)
        timeout = _bounded(given.get("invocationtimeoutseconds"), "InvocationTimeoutSeconds", TIMEOUT_RANGE, 900)
        inference_id = given.get("inference-id") or new_id()
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
        config = config_of(endpoint_name)
        if any(_is_file(path) for path in (config.output_path, config.failure_path) if path):
            for field, value in (("S3OutputPathExtension", extension), ("InferenceId", inference_id)):
                # an S3 key keeps "..", a file path climbs out with it (unquoted first, as Locations.path does)
                if value and ".." in unquote(value).split("/"):
                    raise ValidationError(f"{field}: '{value}' has a '..' path segment, which would leave the "
                                          "endpoint's file:// output path")
        output = join(config.output_path, extension or "", filename or f"{inference_id}.out")
        failure = join(config.failure_path or config.output_path, f"{inference_id}-error.out")
        now = self.clock.now()
        row = {
            "endpoint_name": endpoint_name, "inference_id": inference_id, "input_location": input_location or "",
            "body": body or None, "content_type": given.get("content-type"), "accept": given.get("accept"),
            "custom_attributes": given.get("custom-attributes"), "output_location": output,
            "failure_location": failure, "notification": config.notification, "invocation_timeout_s": timeout,
            "created_at": now, "expires_at": now + ttl}
        return Prepared(row, Accepted(inference_id, output, failure), input_location or None)

    def cached_config(self, endpoint_name: str) -> AsyncConfig | None:
        """The endpoint's AsyncInferenceConfig if known for the current routing table (no I/O), else None."""
        if self.revision() != self._configs_revision:
            return None
        return self._configs.get(endpoint_name)

    def _async_config(self, endpoint_name: str) -> AsyncConfig:
        revision = self.revision()
        if revision != self._configs_revision:
            self._configs, self._configs_revision = {}, revision
        config = self._configs.get(endpoint_name)
        if config is None:
            row = self.repo.get_endpoint(endpoint_name)
            if row is None:
                raise ValidationError(f"Endpoint {endpoint_name} of account {self.account_id} not found.")
            state: DesiredState = row["state"]
            if state.current.asynchronous is None:
                raise ValidationError(f"Endpoint {endpoint_name} is not an asynchronous endpoint (its endpoint "
                                      "configuration has no AsyncInferenceConfig): invoke it with InvokeEndpoint.")
            config = self._configs[endpoint_name] = state.current.asynchronous
        return config


def _is_file(url: str) -> bool:
    return urlsplit(url).scheme.lower() == "file"


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
