"""The one-command demo on the embedded defaults: train two small scikit-learn models, start a server
in this process, serve them on one endpoint at 70/30, invoke it N times, count the split, clean up."""

from __future__ import annotations

import math
import tarfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenfleet.client import ApiError, Client
from greenfleet.instances.local import free_port
from greenfleet.server import Server
from greenfleet.settings import Settings

__all__ = ["ENDPOINT", "VARIANTS", "DemoResult", "DemoVariant", "run", "train"]

Doc = dict[str, Any]
ENDPOINT = "greenfleet-demo"
CONFIG = "greenfleet-demo-config"
IMAGE = "greenfleet/sklearn"


@dataclass(frozen=True)
class DemoVariant:
    variant: str
    model: str
    c: float
    """LogisticRegression's inverse regularization strength."""
    weight: float


VARIANTS = (DemoVariant("blue", "greenfleet-demo-c1", 1.0, 0.7),
            DemoVariant("green", "greenfleet-demo-c01", 0.1, 0.3))


@dataclass(frozen=True)
class DemoResult:
    requests: int
    counts: dict[str, int]
    """Invocations answered by each variant."""
    weights: dict[str, float]
    described: Doc
    """DescribeEndpoint while the endpoint was InService."""
    sample: str
    """The model's answer to the first request."""
    elapsed_s: float
    """Time spent invoking."""

    def share(self, variant: str) -> float:
        return self.counts.get(variant, 0) / self.requests if self.requests else 0.0

    def expected(self, variant: str) -> float:
        return self.weights[variant] / sum(self.weights.values())

    def within_bounds(self, variant: str, sigmas: float = 4.0) -> bool:
        """Whether the observed count is within ``sigmas`` binomial standard deviations of the weight."""
        p = self.expected(variant)
        spread = sigmas * math.sqrt(self.requests * p * (1 - p))
        return abs(self.counts.get(variant, 0) - self.requests * p) <= spread


def train(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """Fit one LogisticRegression per variant on make_classification(20 features, random_state=0); save
    each as ``<model>/model.joblib`` and ``<model>/model.tar.gz``. Returns the tarballs and CSV rows."""
    import joblib
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    features, labels = make_classification(n_samples=1000, n_features=20, random_state=0)
    tarballs: dict[str, Path] = {}
    for spec in VARIANTS:
        model_dir = directory / spec.model
        model_dir.mkdir(parents=True, exist_ok=True)
        joblib.dump(LogisticRegression(C=spec.c, max_iter=1000).fit(features, labels), model_dir / "model.joblib")
        with tarfile.open(model_dir / "model.tar.gz", "w:gz") as tar:
            tar.add(model_dir / "model.joblib", arcname="model.joblib")
        tarballs[spec.model] = model_dir / "model.tar.gz"
    rows = [",".join(f"{value:.6f}" for value in row) for row in features[:100]]
    return tarballs, rows


def _ignore_missing(call: Callable[..., object], **params: str) -> None:
    try:
        call(**params)
    except ApiError as exc:
        if not exc.not_found:
            raise


def _remove(client: Client) -> None:
    """Delete the demo's resources (also leftovers of an interrupted run in the same home)."""
    _ignore_missing(client.delete_endpoint, EndpointName=ENDPOINT)
    client.wait_for_deletion(EndpointName=ENDPOINT, Timeout=60, Delay=0.2)
    _ignore_missing(client.delete_endpoint_config, EndpointConfigName=CONFIG)
    for spec in VARIANTS:
        _ignore_missing(client.delete_model, ModelName=spec.model)


def _create(client: Client, tarballs: dict[str, Path]) -> None:
    for spec in VARIANTS:
        client.create_model(ModelName=spec.model,
                            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": str(tarballs[spec.model])})
    variants = [{"VariantName": s.variant, "ModelName": s.model, "InitialInstanceCount": 1,
                 "InstanceType": "ml.m5.large", "InitialVariantWeight": s.weight} for s in VARIANTS]
    client.create_endpoint_config(EndpointConfigName=CONFIG, ProductionVariants=variants)
    client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG)


def _invoke(client: Client, rows: list[str], requests: int) -> tuple[Counter[str], str, float]:
    counts: Counter[str] = Counter()
    sample = ""
    started = time.perf_counter()
    for index in range(requests):
        result = client.invoke_endpoint(EndpointName=ENDPOINT, Body=rows[index % len(rows)],
                                        ContentType="text/csv", Accept="application/json")
        counts[result.get("InvokedProductionVariant") or "?"] += 1
        if index == 0:
            sample = result["Body"].read().decode("utf-8", errors="replace").strip()
    return counts, sample, time.perf_counter() - started


def run(home: Path, port: int = 8080, requests: int = 1000,
        progress: Callable[[str], None] = lambda _message: None) -> DemoResult:
    """Run the whole demo with ``home`` as GREENFLEET_HOME; ``port`` 0 picks a free port."""
    progress("Training two LogisticRegression models (C=1.0 and C=0.1)")
    tarballs, rows = train(home / "demo-models")
    settings = Settings(home=home, host="127.0.0.1", port=port or free_port(), database_url=None)
    server = Server(settings)
    try:
        server.start_in_thread()
        progress(f"greenfleet is serving on {settings.base_url} (home {home})")
        with Client(settings.base_url) as client:
            _remove(client)
            _create(client, tarballs)
            progress(f"Endpoint {ENDPOINT} is Creating: variants "
                     + ", ".join(f"{s.variant} ({s.model}) at {s.weight:g}" for s in VARIANTS))
            started = time.perf_counter()
            described = client.wait_for_endpoint(EndpointName=ENDPOINT, Timeout=120, Delay=0.2)
            progress(f"Endpoint {ENDPOINT} is InService after {time.perf_counter() - started:.1f} s; "
                     f"invoking it {requests} times")
            counts, sample, elapsed = _invoke(client, rows, requests)
            progress(f"Deleting endpoint {ENDPOINT}")
            _remove(client)
    finally:
        server.stop_thread()
    return DemoResult(requests, dict(counts), {s.variant: s.weight for s in VARIANTS}, described, sample, elapsed)
