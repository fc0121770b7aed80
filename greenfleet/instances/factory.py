"""The instance backend named by the settings (``GREENFLEET_BACKEND``), with clear errors for a backend
that cannot run: settings that do nothing are refused, a missing optional package is named."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from greenfleet.instances.backend import InstanceBackend
from greenfleet.instances.contract import WorkerContract
from greenfleet.instances.isolation import Isolation
from greenfleet.instances.local import LocalProcessBackend
from greenfleet.settings import Settings


class BackendUnavailable(RuntimeError):
    """The settings name a backend this installation cannot run (the message says what to change)."""


def create_backend(settings: Settings, isolation: Isolation, server_lock: Path) -> InstanceBackend:
    if settings.backend == "local":
        for name in ("ray_address", "ray_namespace"):
            if name in settings.model_fields_set:
                raise BackendUnavailable(f"GREENFLEET_{name.upper()} is set but GREENFLEET_BACKEND is local: set "
                                         "GREENFLEET_BACKEND=ray to run instances on a Ray cluster, or unset it.")
        if "shadow_scheduling" in settings.model_fields_set and settings.shadow_scheduling == "idle" and \
                not hasattr(os, "SCHED_IDLE"):
            raise BackendUnavailable("GREENFLEET_SHADOW_SCHEDULING=idle needs Linux's SCHED_IDLE, which this "
                                     "system does not have: set GREENFLEET_SHADOW_SCHEDULING=nice.")
        return LocalProcessBackend(
            settings.home, python=settings.worker_python, orphan_grace_s=settings.worker_orphan_grace_s,
            artifact_max_bytes=settings.artifact_max_bytes, s3_endpoint_url=settings.s3_endpoint_url,
            isolation=isolation, server_lock=server_lock, invocation_timeout_s=settings.invocation_timeout_s,
            max_body_bytes=settings.worker_max_body_bytes, stream_chunk_rows=settings.worker_stream_chunk_rows)
    if not settings.ray_address:
        raise BackendUnavailable("GREENFLEET_BACKEND=ray needs GREENFLEET_RAY_ADDRESS: the cluster's GCS "
                                 "address (HOST:6379), 'auto', or 'local' for a one-machine cluster in the server.")
    if importlib.util.find_spec("ray") is None:
        raise BackendUnavailable("GREENFLEET_BACKEND=ray needs the ray package, which is not installed: "
                                 "pip install 'greenfleet[ray]'.")
    from greenfleet.instances.ray_backend import RayBackend

    contract = WorkerContract(isolation, settings.worker_orphan_grace_s, settings.artifact_max_bytes,
                              settings.s3_endpoint_url, settings.invocation_timeout_s,
                              max_body_bytes=settings.worker_max_body_bytes,
                              stream_chunk_rows=settings.worker_stream_chunk_rows)
    try:
        return RayBackend(contract, settings.ray_address, settings.ray_namespace, python=settings.worker_python)
    except ConnectionError as exc:
        raise BackendUnavailable(
            f"cannot join the Ray cluster at {settings.ray_address}: {exc}. If the cluster uses token "
            "authentication (Ray's default since 2.5x: its head logs 'Token authentication is enabled'), run the "
            "server with RAY_AUTH_MODE=token and the cluster's token in ~/.ray/auth_token or RAY_AUTH_TOKEN.") from None
