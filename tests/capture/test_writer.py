"""The background writer against real destinations: a directory, file://, and moto's S3 server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.reader import read_captured
from greenfleet.capture.record import CapturedEvent
from greenfleet.capture.writer import CaptureWriter
from tests.artifacts.s3 import moto_s3

AT = 1_700_000_000.25  # 2023-11-14T22:13:20Z


def setting(destination: str) -> CaptureSetting:
    return CaptureSetting(destination, 100, True, True, frozenset({"text/csv"}), frozenset())


def event(dest: str, n: int, at: float = AT, variant: str = "v1") -> CapturedEvent:
    return CapturedEvent(setting(dest), "ep", variant, at, f"{n},1".encode(), "text/csv", b"0.5", "text/csv",
                         f"id-{n}")


def lines(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for path in sorted(root.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def test_flushes_within_a_second_to_the_hour_directory(tmp_path: Path) -> None:
    writer = CaptureWriter(max_queued_bytes=1 << 20, flush_interval_s=0.5)
    writer.start()
    try:
        for n in range(5):
            assert writer.offer(event(str(tmp_path), n))
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline and len(lines(tmp_path)) < 5:
            time.sleep(0.05)
        files = list(tmp_path.rglob("*.jsonl"))
        assert [f.parent.relative_to(tmp_path).as_posix() for f in files] == ["ep/v1/2023/11/14/22"]
        assert files[0].name.startswith("13-20-250-")
        records = lines(tmp_path)
        assert [r["eventMetadata"]["inferenceId"] for r in records] == [f"id-{n}" for n in range(5)]  # type: ignore[index]
        # later flushes of the same hour append to the same file
        writer.offer(event(str(tmp_path), 5, AT + 60))
        writer.flush()
        assert len(list(tmp_path.rglob("*.jsonl"))) == 1 and len(lines(tmp_path)) == 6
        writer.offer(event(str(tmp_path), 6, AT + 3600))
        writer.flush()
        assert sorted(p.parent.name for p in tmp_path.rglob("*.jsonl")) == ["22", "23"]
    finally:
        writer.stop()
    assert writer.counts()[("ep", "v1")].written == 7


def test_file_url_and_reader_window(tmp_path: Path) -> None:
    writer = CaptureWriter(max_queued_bytes=1 << 20, flush_interval_s=1.0)
    for n, at in enumerate([AT - 3600, AT, AT + 10, AT + 7200]):
        writer.offer(event(f"file://{tmp_path}/cap", n, at, variant=f"v{n % 2}"))
    writer.flush()
    found = list(read_captured(f"file://{tmp_path}/cap", "ep", AT - 1, AT + 3600))
    assert sorted(r["eventMetadata"]["inferenceId"] for r in found) == ["id-1", "id-2"]
    writer.stop()


def test_backpressure_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    writer = CaptureWriter(max_queued_bytes=4096, flush_interval_s=1.0)  # not started: nothing drains
    accepted = [writer.offer(event(str(tmp_path), n)) for n in range(100)]
    assert 0 < sum(accepted) < 100
    assert writer.counts()[("ep", "v1")].dropped == 100 - sum(accepted)
    assert writer.queued_bytes <= 4096
    writer.flush()
    assert writer.queued_bytes == 0 and len(lines(tmp_path)) == sum(accepted)
    assert writer.offer(event(str(tmp_path), 101))  # room again after the write
    writer.stop()


def test_unwritable_destination_is_reported_and_recovers(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    writer = CaptureWriter(max_queued_bytes=1 << 20, flush_interval_s=1.0)
    writer.offer(event(str(blocker), 1))
    writer.flush()
    failure = writer.failure(str(blocker))
    assert failure is not None and "cannot write to" in failure and str(blocker) in failure
    assert writer.counts()[("ep", "v1")].failed == 1
    blocker.unlink()
    writer.offer(event(str(blocker), 2))
    writer.flush()
    assert writer.failure(str(blocker)) is None and len(lines(blocker)) == 1
    writer.stop()


def test_s3_destination_on_a_real_s3_server() -> None:
    with moto_s3() as url:
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        s3.create_bucket(Bucket="capture")
        writer = CaptureWriter(max_queued_bytes=1 << 20, flush_interval_s=1.0, s3_endpoint_url=url)
        for n in range(3):
            writer.offer(event("s3://capture/dc/", n))
        writer.flush()
        writer.offer(event("s3://missing-bucket/dc", 9))
        writer.flush()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="capture")["Contents"]]
        assert len(keys) == 1 and keys[0].startswith("dc/ep/v1/2023/11/14/22/13-20-250-")
        body = s3.get_object(Bucket="capture", Key=keys[0])["Body"].read().decode()
        assert [json.loads(x)["captureData"]["endpointInput"]["data"] for x in body.splitlines()] == \
            ["0,1", "1,1", "2,1"]
        assert "NoSuchBucket" in (writer.failure("s3://missing-bucket/dc") or "")
        found = list(read_captured("s3://capture/dc", "ep", AT - 1, AT + 1, s3_endpoint_url=url))
        assert len(found) == 3
        writer.stop()


@pytest.mark.parametrize("size", [0, 1])
def test_empty_queue_flush_writes_nothing(tmp_path: Path, size: int) -> None:
    writer = CaptureWriter(max_queued_bytes=1 << 20, flush_interval_s=1.0)
    for n in range(size):
        writer.offer(event(str(tmp_path), n))
    writer.flush()
    assert len(list(tmp_path.rglob("*.jsonl"))) == size
    writer.stop()
