"""The one settings object. Every knob is an environment variable with the ``GREENFLEET_`` prefix."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".greenfleet"


def _default_max_instances() -> int:
    """Instances one server may run at once: four per core, at least 16 (a worker idles at ~45-130 MB)."""
    return max(16, 4 * (os.cpu_count() or 2))


class Settings(BaseSettings):
    """greenfleet's configuration; built once in ``main()`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="GREENFLEET_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    """Directory holding the SQLite store, instance directories and logs."""

    database_url: str | None = None
    """SQLAlchemy URL of the store; default ``sqlite:///{home}/greenfleet.db`` (WAL mode)."""

    host: str = "127.0.0.1"
    """Address the server listens on."""

    port: int = 8080
    """Port of the one base URL (native API, invocations, SageMaker protocol)."""

    account_id: str = "000000000000"
    """Account id used in ARNs."""

    region: str = "us-east-1"
    """Region used in ARNs."""

    reconcile_interval_s: float = 0.5
    """Seconds between two passes of the endpoint reconciler."""

    health_check_interval_s: float = 1.0
    """Seconds between two health checks of a running instance."""

    startup_health_check_timeout_s: float = 600.0
    """Default ContainerStartupHealthCheckTimeoutInSeconds: how long an instance may take to answer /ping."""

    instance_restart_backoff_s: float = 1.0
    """Delay before a dead instance is replaced."""

    drain_timeout_s: float = 30.0
    """Longest wait for in-flight requests before a removed instance is stopped anyway."""

    worker_orphan_grace_s: float = 60.0
    """A worker whose server died exits after this many seconds without a health check."""

    artifact_max_bytes: int = 4 * 1024**3
    """Largest unpacked model artifact accepted."""

    s3_endpoint_url: str | None = None
    """Endpoint of an S3-compatible store (MinIO, ...) for s3:// model data."""

    invocation_timeout_s: float = 60.0
    """How long the router waits for a model's answer (SageMaker: 60 s)."""

    router_seed: int | None = None
    """Seed of the router's random number generator (the weighted choice of a variant, the pick among
    equally loaded instances), for reproducible tests and benchmarks: with a seed the router draws the
    same sequence on every run (with concurrent clients, which request gets which draw still depends on
    timing). Unset: seeded from the OS."""

    max_payload_bytes: int = 6 * 1024 * 1024
    """Largest InvokeEndpoint body (SageMaker: 6 MB)."""

    strict_deployment_minimums: bool = True
    """Enforce SageMaker's lower bounds on deployment durations (MaximumExecutionTimeoutInSeconds ≥ 600);
    turn off for fast local experiments and tests."""

    deployment_timeout_s: float = 28800.0
    """MaximumExecutionTimeoutInSeconds when a DeploymentConfig gives none."""

    rollback_timeout_s: float = 600.0
    """How long a rollback may take to bring the old fleet back before the endpoint is UpdateRollbackFailed."""

    metrics_raw_retention_s: int = 3 * 3600
    """How long 1-second metric points are kept."""

    metrics_rollup_retention_s: int = 15 * 24 * 3600
    """How long 1-minute rollups are kept."""

    worker_python: str | None = None
    """Python interpreter for built-in runtimes; default: the server's own."""

    aws_credentials: dict[str, str] | None = None
    """Access key id → secret access key, as JSON (``{"AKIA...": "secret"}``). When set, every request
    on the AWS protocols must carry a valid SigV4 signature by one of these keys; when unset, any request is
    accepted (local development)."""

    sigv4_max_skew_s: float = 900.0
    """Largest difference between a SigV4 request's X-Amz-Date and the server's clock (AWS: 15 minutes)."""

    api_token: str | None = None
    """When set, the native REST API (``/api/*``) requires ``Authorization: Bearer <token>``."""

    max_aws_body_bytes: int = 10 * 1024 * 1024
    """Largest request body on the AWS protocols (``POST /``), both as sent and after gzip inflation."""

    max_instances_per_variant: int = Field(default_factory=_default_max_instances, ge=1)
    """Most instances one variant may ask for (DesiredInstanceCount, InitialInstanceCount); a larger
    request is refused with ResourceLimitExceeded, and the reconciler never starts more."""

    max_instances_per_endpoint: int = Field(default_factory=_default_max_instances, ge=1)
    """Most instances of one endpoint across its variants and fleets (a blue/green deployment runs both)."""

    max_instances_total: int = Field(default_factory=_default_max_instances, ge=1)
    """Most instances this server runs at once across all endpoints."""

    capture_max_queued_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Data capture: most bytes of sampled invocations held in memory before they are written; beyond
    it records are dropped and counted (metric ``greenfleet/DataCapture`` DroppedRecords)."""

    capture_flush_interval_s: float = Field(default=1.0, gt=0, le=1.0)
    """Data capture: captured records reach their destination at least this often (at most 1 s)."""

    monitoring_min_interval_s: float = Field(default=60.0, ge=1.0)
    """Shortest interval of a continuous monitoring schedule (``rate(N seconds)``); lower it only for tests."""

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'greenfleet.db'}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"
