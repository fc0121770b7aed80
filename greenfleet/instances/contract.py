"""The worker contract as every backend hands it over: the environment a ``python -m greenfleet.workers``
process is started with (see ``greenfleet.workers.environment``), apart from what only the machine that
runs it knows (its port, its directory, its address), which the backend adds there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenfleet.instances.isolation import Isolation

TOKEN_VARIABLE = "GREENFLEET_INSTANCE_TOKEN"
NICENESS_VARIABLE = "GREENFLEET_NICENESS"
"""The CPU niceness a worker sets on itself at start (``InstanceSpec.niceness``; a shadow's instances)."""
SCHEDULING_VARIABLE = "GREENFLEET_SCHEDULING"
"""The scheduling policy a worker sets on itself at start: ``idle`` is Linux's SCHED_IDLE
(``InstanceSpec.scheduling``; a shadow's instances with ``Settings.shadow_scheduling`` "idle")."""


def priority_environment(niceness: int, scheduling: str) -> dict[str, str]:
    """The variables that lower an instance's CPU priority (a shadow's), as every backend hands them over:
    the worker applies them to itself before anything else, so its threads and children inherit them."""
    env: dict[str, str] = {}
    if niceness:
        env[NICENESS_VARIABLE] = str(niceness)
    if scheduling != "normal":
        env[SCHEDULING_VARIABLE] = scheduling
    return env


def timeout_environment(timeout_s: float | None) -> dict[str, str]:
    """An instance's own invocation timeout (``InstanceSpec.invocation_timeout_s``), over the contract's."""
    return {"GREENFLEET_INVOCATION_TIMEOUT_S": str(timeout_s)} if timeout_s is not None else {}


@dataclass(frozen=True)
class WorkerContract:
    isolation: Isolation = field(default_factory=Isolation)
    orphan_grace_s: float = 60.0
    artifact_max_bytes: int | None = None
    s3_endpoint_url: str | None = None
    invocation_timeout_s: float | None = None
    server_lock: Path | None = None
    """The server's home lock (only meaningful on the server's machine: the local backend)."""
    max_body_bytes: int | None = None
    """GREENFLEET_WORKER_MAX_BODY_BYTES for the worker (unset: its default)."""
    stream_chunk_rows: int | None = None
    """GREENFLEET_WORKER_STREAM_CHUNK_ROWS for the worker (unset: its default)."""

    def environment(self, container: Mapping[str, Any], token: str,
                    server: Mapping[str, str] | None = None) -> dict[str, str]:
        """A scrubbed environment (the container's Environment and the contract, none of the server's
        secrets) for the instance of ``container`` identified by ``token``."""
        environment = container.get("Environment") or {}
        sources = [str(container.get("ModelDataUrl") or ""),
                   str(environment.get("SAGEMAKER_SUBMIT_DIRECTORY") or "")]
        env = self.isolation.environment(os.environ if server is None else server, environment,
                                         wants_s3=any(u.lower().startswith("s3://") for u in sources))
        env.update({"GREENFLEET_IMAGE": str(container.get("Image", "")),
                    "GREENFLEET_ORPHAN_GRACE_S": str(self.orphan_grace_s), TOKEN_VARIABLE: token})
        if container.get("ModelDataUrl"):
            env["GREENFLEET_MODEL_DATA_URL"] = str(container["ModelDataUrl"])
        if self.artifact_max_bytes:
            env["GREENFLEET_ARTIFACT_MAX_BYTES"] = str(self.artifact_max_bytes)
        if self.s3_endpoint_url:
            env["GREENFLEET_S3_ENDPOINT_URL"] = self.s3_endpoint_url
        policy = self.isolation
        env["GREENFLEET_ALLOWED_IMAGES"] = ",".join(policy.allowed_images)
        if policy.model_data_roots:
            env["GREENFLEET_MODEL_DATA_ROOTS"] = os.pathsep.join(str(p) for p in policy.model_data_roots)
        if policy.allow_link_local:
            env["GREENFLEET_MODEL_DATA_ALLOW_LINK_LOCAL"] = "1"
        if self.server_lock is not None:
            env["GREENFLEET_SERVER_LOCK"] = str(self.server_lock)
        if self.invocation_timeout_s is not None:
            env["GREENFLEET_INVOCATION_TIMEOUT_S"] = str(self.invocation_timeout_s)
        if self.max_body_bytes is not None:
            env["GREENFLEET_WORKER_MAX_BODY_BYTES"] = str(self.max_body_bytes)
        if self.stream_chunk_rows is not None:
            env["GREENFLEET_WORKER_STREAM_CHUNK_ROWS"] = str(self.stream_chunk_rows)
        return env


def placed_environment(base: Mapping[str, str], directory: Path, port: int, failure_file: str,
                       host: str | None = None) -> dict[str, str]:
    """``base`` with what the machine running the instance decides: its port, model directory, failure
    file and (for a worker another machine reaches) the address it listens on."""
    env = {**base, "SAGEMAKER_BIND_TO_PORT": str(port), "SM_MODEL_DIR": str(directory / "model"),
           "GREENFLEET_FAILURE_FILE": str(directory / failure_file)}
    if host is not None:
        env["GREENFLEET_BIND_HOST"] = host
    return env
