"""What ``greenfleet registry register`` reads on the client side: a source (a model directory, a
model.tar.gz, an MLflow model directory, or ``runs:/<run id>/<path>`` in an MLflow tracking store)
becomes a CreateModelPackage request carrying its lineage. From an MLflow run: its params and tags as
CustomerMetadataProperties (``param.*``, ``tag.*``), its git commit and source as MetadataProperties, and
its metrics as the ModelQuality statistics report (a JSON file the server reads and keeps)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Doc = dict[str, Any]
MLFLOW_IMAGE = "greenfleet/mlflow"
MAX_PROPERTIES = 50
_UNSAFE = re.compile(r"[^\w\s.:/=+\-@]", re.UNICODE)


class SourceError(Exception):
    """The source cannot be registered; the message says why."""


@dataclass
class Registration:
    model_data_url: str
    image: str | None
    metadata: Doc = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


def property_value(value: Any) -> str:
    """A value SageMaker's CustomerMetadataProperties accept: 1-256 characters of letters, digits, spaces
    and ``_.:/=+-@`` (other characters become ``_``)."""
    cleaned = _UNSAFE.sub("_", str(value))[:256]
    return cleaned or "-"


def is_mlflow_model(path: Path) -> bool:
    return path.is_dir() and (path / "MLmodel").is_file()


def local_source(source: str) -> Registration:
    path = Path(source).expanduser()
    if not path.exists():
        raise SourceError(f"{source}: no such file or directory")
    return Registration(str(path.resolve()), MLFLOW_IMAGE if is_mlflow_model(path) else None)


def mlflow_run_source(uri: str, tracking_uri: str | None, workdir: Path) -> Registration:
    """Download ``runs:/<id>/<path>`` into ``workdir`` and read the run's lineage."""
    match = re.fullmatch(r"runs:/([0-9a-zA-Z]+)/(.+)", uri)
    if match is None:
        raise SourceError(f"{uri}: expected runs:/<run id>/<artifact path>")
    try:
        import mlflow
        from mlflow.tracking import MlflowClient
    except ImportError as exc:  # an optional extra
        raise SourceError("registering from an MLflow run needs MLflow: pip install 'greenfleet[mlflow]'") from exc
    run_id = match.group(1)
    try:
        run = MlflowClient(tracking_uri=tracking_uri).get_run(run_id)
        local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(workdir / "model"),
                                                    tracking_uri=tracking_uri)
    except Exception as exc:  # MLflow raises its own exception types for a missing run or artifact
        raise SourceError(f"{uri}: {exc}") from exc
    registration = Registration(local, MLFLOW_IMAGE if is_mlflow_model(Path(local)) else None)
    tags = run.data.tags
    registration.metadata = {k: v for k, v in {
        "GeneratedBy": f"mlflow:runs/{run_id}", "CommitId": tags.get("mlflow.source.git.commit"),
        "Repository": tags.get("mlflow.source.git.repoURL") or tags.get("mlflow.source.name"),
        "ProjectId": run.info.experiment_id}.items() if v}
    properties = {f"param.{k}": property_value(v) for k, v in sorted(run.data.params.items())}
    properties.update({f"tag.{k}": property_value(v) for k, v in sorted(tags.items())
                       if not k.startswith("mlflow.")})
    registration.properties = dict(list(properties.items())[:MAX_PROPERTIES])
    registration.metrics = {k: float(v) for k, v in run.data.metrics.items()}
    return registration


def metrics_report(metrics: dict[str, float], path: Path) -> Doc:
    """Write ``metrics`` as an evaluation report and return the ModelMetrics that points at it."""
    path.write_text(json.dumps({"metrics": {k: {"value": v} for k, v in sorted(metrics.items())}}))
    return {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": path.resolve().as_uri()}}}
