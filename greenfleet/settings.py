"""The one settings object. Every knob is an environment variable with the ``GREENFLEET_`` prefix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
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
    """Delay before a dead instance is replaced; it doubles with each restart of the group, up to 30 s."""

    instance_restart_backoff_reset_s: float = Field(default=60.0, gt=0)
    """Once an instance of a group has been healthy this many seconds, the group's restart back-off starts
    over (the next death is replaced after ``instance_restart_backoff_s`` again)."""

    drain_timeout_s: float = 30.0
    """Longest wait for in-flight requests before a removed instance is stopped anyway."""

    worker_orphan_grace_s: float = 60.0
    """A worker whose server died exits after this many seconds without a health check."""

    artifact_max_bytes: int = 4 * 1024**3
    """Largest unpacked model artifact accepted."""

    s3_endpoint_url: str | None = None
    """Endpoint of an S3-compatible store (MinIO, ...) for s3:// model data."""

    worker_max_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    """Largest request body a worker reads whole; a larger one is refused with 413 (an asynchronous request:
    a failure saying so). Row-oriented bodies (text/csv, application/jsonlines) of the built-in scikit-learn
    and XGBoost images are streamed through the worker in chunks instead, whatever their size."""

    worker_stream_chunk_rows: int = Field(default=10_000, ge=1)
    """Rows a worker predicts at a time when it streams a row-oriented body."""

    invocation_timeout_s: float = 60.0
    """How long the router waits for a model's answer (SageMaker: 60 s)."""

    router_seed: int | None = None
    """Seed of the router's random number generator (the weighted choice of a variant, the pick among
    equally loaded instances), for reproducible tests and benchmarks: with a seed the router draws the
    same sequence on every run (with concurrent clients, which request gets which draw still depends on
    timing). Unset: seeded from the OS."""

    shadow_max_in_flight: int = Field(default=32, ge=1)
    """Copies to shadow variants in flight per endpoint (from the router's hand-off to its mirror process to
    the shadow's answer coming back); beyond, a sampled copy is dropped and counted (metric
    ShadowRequestsDropped in namespace Greenfleet/Endpoints), never queued."""

    shadow_niceness: int = Field(default=10, ge=0, le=19)
    """The CPU niceness a shadow variant's instances and the router's mirror process (which sends the copies)
    run at (0: the same as production's). A shadow is best
    effort: on shared cores the scheduler gives production's processes the CPU first, and copies the shadow
    cannot keep up with are dropped at ``shadow_max_in_flight`` (bench/shadow_bench.py measures both)."""

    shadow_scheduling: Literal["idle", "nice"] = "idle"
    """How a shadow variant's instances (and the router's mirror process, which sends the copies) yield the
    CPU to production: ``idle`` (Linux's SCHED_IDLE policy,
    set by the worker on itself at start and inherited by its threads and children: the shadow runs only on
    CPU time no other runnable process wants, so on saturated cores it falls behind and its copies are
    dropped at ``shadow_max_in_flight``; it still runs at ``shadow_niceness``, which Linux also derives its
    I/O priority from) or ``nice`` (``shadow_niceness`` alone: the scheduler still gives the shadow a share
    of a busy core). On the local backend ``idle`` needs Linux: set explicitly elsewhere it is refused, left at
    its default the shadow gets the niceness alone; a Ray node's worker that cannot set it fails to start and
    says why. The default was chosen by bench/shadow_bench.py --rounds (bench/README.md)."""

    experiment_promote_bake_s: int = Field(default=300, ge=0)
    """The bake of the all-at-once blue/green deployment that StopInferenceExperiment's Promote (or an A/B
    test's ShiftTraffic) starts when the experiment (or test) gives no DeploymentConfig of its own."""

    feedback_retention_s: float = Field(default=7 * 86400.0, gt=0)
    """How long the inference ids an endpoint under an A/B test answered (and their outcomes) are kept:
    feedback may arrive this late; older ids are unknown to the feedback API."""

    max_payload_bytes: int = 6 * 1024 * 1024
    """Largest InvokeEndpoint body (SageMaker: 6 MB)."""

    strict_deployment_minimums: bool = True
    """Enforce SageMaker's lower bounds on deployment durations (MaximumExecutionTimeoutInSeconds ≥ 600) and
    CloudWatch's alarm periods (10, 20, 30 or a multiple of 60 s); turn off for fast local experiments and tests."""

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

    alarm_action_webhooks: dict[str, str] = {}
    """Alarm action (and asynchronous inference notification topic) ARN → webhook URL, as JSON
    (``{"arn:aws:sns:us-east-1:123456789012:ops":
    "https://hooks.example/ops"}``): an alarm action naming a mapped ARN (SNS topic, Lambda function, SSM,
    EC2 action) is delivered to its URL as a webhook; an unmapped ARN action is recorded in the alarm's
    history as not executed."""

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

    allowed_hosts: str = ""
    """Extra names the ``Host`` header may carry, comma-separated (``*``: any). Loopback names and the
    listening address are always allowed; anything else is refused (DNS rebinding)."""

    allow_unauthenticated_remote: bool = False
    """Let the server listen on a non-loopback address with no credential configured (no
    ``api_token``, no ``aws_credentials``): anyone who can reach the port then controls the server."""

    max_api_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1)
    """Largest request body on the native API (``/api/*``)."""

    body_read_timeout_s: float = Field(default=30.0, gt=0)
    """Longest wait for a request body on any face; a client that sends less than its Content-Length gets
    408 instead of holding the connection."""

    worker_user: str | None = None
    """Run instance processes as this (unprivileged) user; the server must run as root to switch to it.
    Unset: instances run as the server's user."""

    worker_environment_passthrough: str = ""
    """Further variables of the server's environment handed to every instance, comma-separated. By default
    an instance sees only PATH, locale, proxy and CA variables, its container's Environment and the
    SageMaker contract (plus the AWS_* credentials when its model data is on S3)."""

    allowed_images: str = "*"
    """Container images models may use, comma-separated patterns (``greenfleet/sklearn,sagemaker-*``);
    ``*`` allows all. Leave out ``greenfleet/command`` and ``greenfleet/script`` to refuse models that run
    a shell command or user code."""

    model_data_roots: str | None = None
    """Directories a local ModelDataUrl (a path or file://) may name, ``os.pathsep``-separated. Default:
    the server's working directory and GREENFLEET_HOME."""

    model_data_allow_link_local: bool = False
    """Let http(s) ModelDataUrls reach link-local and cloud metadata addresses (169.254.0.0/16, ...)."""

    async_file_roots: str | None = None
    """Directories the file:// locations of asynchronous inference (InputLocation, S3OutputPath,
    S3FailurePath) may name, ``os.pathsep``-separated. Unset: only s3:// locations are accepted."""

    async_max_in_flight: int = Field(default=64, ge=1, le=1024)
    """Asynchronous requests the dispatcher streams at once (each on its own thread), over all endpoints."""

    async_retention_s: float = Field(default=7 * 86400.0, gt=0)
    """How long a finished asynchronous request's record is kept (its InferenceId taken on its endpoint, its
    status readable); the records of an endpoint that no longer exists go within a minute."""

    reject_on_rollback: bool = False
    """When a deployment binding's guardrail rolls a model package version back, also set that version's
    ModelApprovalStatus to Rejected (its outcome is recorded and announced either way)."""

    registry_required_evidence: str = ""
    """Check names (comma-separated, e.g. ``integration,load``) whose newest evidence on a model package
    version must be Passed before this server accepts its approval (``greenfleet registry evidence add``);
    empty: approvals need no evidence."""

    registry_s3_uri: str | None = None
    """``s3://bucket/prefix`` where the model registry keeps registered artifacts (with
    ``s3_endpoint_url`` for MinIO or another S3-compatible store); default: under ``home``."""
    capture_max_queued_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Data capture: most bytes of sampled invocations held in memory before they are written; beyond
    it records are dropped and counted (metric ``greenfleet/DataCapture`` DroppedRecords)."""

    capture_flush_interval_s: float = Field(default=1.0, gt=0, le=1.0)
    """Data capture: captured records reach their destination at least this often (at most 1 s)."""

    monitoring_min_interval_s: float = Field(default=60.0, ge=1.0)
    """Shortest interval of a continuous monitoring schedule (``rate(N seconds)``); lower it only for tests."""

    scaling_default_cooldown_s: float = Field(default=300.0, ge=0)
    """ScaleOutCooldown, ScaleInCooldown and Cooldown of a scaling policy that does not give them (AWS: 300 s
    for SageMaker variants)."""

    scaling_alarm_period_s: int = Field(default=60, ge=1)
    """Period of the alarms a target-tracking policy creates (AWS: one minute)."""

    scaling_alarm_high_datapoints: int = Field(default=3, ge=1)
    """Datapoints (of as many) above the target before AlarmHigh scales out (AWS: 3 of 3)."""

    scaling_alarm_low_datapoints: int = Field(default=15, ge=1)
    """Datapoints (of as many) below ``scaling_alarm_low_ratio`` x target before AlarmLow scales in (15 of 15)."""

    scaling_alarm_low_ratio: float = Field(default=0.9, gt=0, le=1)
    """AlarmLow's threshold as a fraction of the target."""

    scaling_activity_timeout_s: float = Field(default=900.0, gt=0)
    """A scaling activity whose instances are not all healthy by then is Unfulfilled."""

    serverless_idle_s: float = Field(default=300.0, gt=0)
    """A serverless variant with no request for this long stops its instances (scale to zero)."""

    serverless_cold_start_timeout_s: float = Field(default=60.0, gt=0)
    """How long the router holds a request while a serverless variant starts from zero (then
    ModelNotReadyException)."""

    @field_validator("alarm_action_webhooks")
    @classmethod
    def _check_action_webhooks(cls, value: dict[str, str]) -> dict[str, str]:
        from greenfleet.alarms.actions import check_webhook_table

        return check_webhook_table(value)

    @field_validator("registry_required_evidence")
    @classmethod
    def _check_required_evidence(cls, value: str) -> str:
        from greenfleet.registry.evidence import required_checks

        required_checks(value)
        return value

    def async_roots(self) -> list[Path]:
        """The directories file:// locations of asynchronous inference may name (see ``async_file_roots``)."""
        if not self.async_file_roots:
            return []
        return [Path(p).expanduser() for p in self.async_file_roots.split(os.pathsep) if p.strip()]

    def data_roots(self) -> list[Path]:
        """The directories local model data may come from (see ``model_data_roots``)."""
        if self.model_data_roots:
            return [Path(p).expanduser() for p in self.model_data_roots.split(os.pathsep) if p.strip()]
        return [Path.cwd(), self.home]

    backend: Literal["local", "ray"] = "local"
    """What runs instances: ``local`` (processes on this machine) or ``ray`` (actors on the Ray cluster at
    ``ray_address``; needs ``pip install 'greenfleet[ray]'``)."""

    ray_address: str | None = None
    """The Ray cluster the ``ray`` backend joins: ``HOST:6379`` (its GCS), ``auto`` (the cluster this
    machine's ``ray start`` joined) or ``local`` (a one-machine cluster inside the server, for trying it
    out: its instances die with the server). Required with ``backend=ray``, refused otherwise."""

    ray_namespace: str = "greenfleet"
    """Ray namespace of the instance actors: one per greenfleet installation sharing a cluster."""

    ha: bool = False
    """Several servers share this PostgreSQL database (a highly available control plane): one leads (runs
    the controllers), every one answers the API and serves invocations from the routing table the leader
    stores; when the leader dies another takes over within seconds. Refused with SQLite."""

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'greenfleet.db'}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"
