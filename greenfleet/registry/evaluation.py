"""ModelMetrics: every MetricsSource of a registration (an evaluation report, statistics, constraints)
is read at registration time from file://, a path, s3:// or http(s):// (through
``greenfleet.artifacts``), checked against its ContentDigest when one is given, and kept with the version
as parsed JSON, so the numbers a version was approved on cannot change afterwards."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from greenfleet.artifacts import ArtifactError, install_model_data
from greenfleet.errors import ValidationError

Doc = dict[str, Any]
MAX_METRICS_BYTES = 4 * 1024 * 1024


def sources(metrics: Doc, path: str = "ModelMetrics") -> list[tuple[str, Doc]]:
    """Every MetricsSource (a dict with S3Uri) inside ModelMetrics, with its dotted path."""
    found: list[tuple[str, Doc]] = []
    for key, value in metrics.items():
        if isinstance(value, dict) and "S3Uri" in value:
            found.append((f"{path}.{key}", value))
        elif isinstance(value, dict):
            found.extend(sources(value, f"{path}.{key}"))
    return found


def read_source(source: Doc, where: str, staging: Path, s3_endpoint_url: str | None) -> Doc:
    """Fetch one MetricsSource; returns what is kept: the digest and the parsed content."""
    url = str(source["S3Uri"])
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging) as tmp:
        target = Path(tmp) / "metrics"
        try:
            install_model_data(url, target, max_bytes=MAX_METRICS_BYTES, s3_endpoint_url=s3_endpoint_url,
                               label=f"{where}.S3Uri")
        except ArtifactError as exc:
            raise ValidationError(f"{exc.message} (the metrics source must be readable at registration)") \
                from exc
        files = [p for p in target.rglob("*") if p.is_file()]
        if len(files) != 1:
            raise ValidationError(f"{where}.S3Uri: {url} must name one JSON document, found {len(files)} files")
        raw = files[0].read_bytes()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    given = source.get("ContentDigest")
    if given and given.lower() != digest:
        raise ValidationError(f"{where}.ContentDigest: {given} does not match the content at {url} ({digest})")
    try:
        content = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(f"{where}.S3Uri: {url} is not JSON ({exc})") from exc
    return {"ContentDigest": digest, "Content": content}


def read_all(metrics: Doc, staging: Path, s3_endpoint_url: str | None) -> dict[str, Doc]:
    """Every source of ``metrics`` read: {dotted path: {ContentDigest, Content}}."""
    return {where: read_source(source, where, staging, s3_endpoint_url) for where, source in sources(metrics)}


def key_metrics(kept: dict[str, Doc]) -> dict[str, float]:
    """Flat name → number view of the kept reports, for tables and diffs. SageMaker's evaluation
    reports nest ``{"accuracy": {"value": 0.91, "standard_deviation": ...}}``; both that and plain
    numbers are understood. The ModelQuality statistics come first."""
    flat: dict[str, float] = {}
    ordered = sorted(kept.items(), key=lambda item: (not item[0].endswith("ModelQuality.Statistics"), item[0]))
    for _where, document in ordered:
        _flatten(document.get("Content"), "", flat)
    return flat


def _flatten(value: Any, name: str, out: dict[str, float]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if name and name not in out:
            out[name] = float(value)
        return
    if isinstance(value, dict):
        if "value" in value and isinstance(value["value"], int | float) and not isinstance(value["value"], bool):
            _flatten(value["value"], name, out)
            return
        for key, item in value.items():
            child = key if not name or name.endswith("metrics") else f"{name}.{key}"
            _flatten(item, child, out)
