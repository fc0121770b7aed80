"""A worker fetching its model data from S3 (moto) through GREENFLEET_S3_ENDPOINT_URL."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import boto3

from tests.artifacts.s3 import CREDENTIALS, moto_s3
from tests.workers.conftest import WorkerFactory


def test_sklearn_model_from_s3(
    workers: WorkerFactory, tmp_path: Path, logistic_model: Path, classification: tuple
) -> None:
    tarball = tmp_path / "model.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(logistic_model, arcname="model.joblib")
    with moto_s3() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="sagemaker-models")
        client.upload_file(str(tarball), "sagemaker-models", "job/output/model.tar.gz")
        env = {"GREENFLEET_S3_ENDPOINT_URL": endpoint, **CREDENTIALS}
        worker = workers.start("greenfleet/sklearn", "s3://sagemaker-models/job/output/model.tar.gz", env=env)
    response = worker.invoke(json.dumps(classification[0][0].tolist()))
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 1


def test_a_missing_s3_object_fails_the_worker(workers: WorkerFactory) -> None:
    with moto_s3() as endpoint:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="empty")
        env = {"GREENFLEET_S3_ENDPOINT_URL": endpoint, **CREDENTIALS}
        worker = workers.launch("greenfleet/sklearn", "s3://empty/model.tar.gz", env=env)
        assert worker.wait_exit() == 3
    assert (
        worker.failure() == "ModelDataUrl s3://empty/model.tar.gz: no object or prefix 'model.tar.gz' in bucket 'empty'"
    )
