"""The serving process's side of data capture against its real capture-writer process: records cross the
pipe and are written as the in-process writer writes them; the process is killed and restarted, with what
it had not confirmed counted lost; overload drops and counts; stop and the server's death flush."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.handoff import CaptureHandoff
from greenfleet.capture.writer import CaptureWriter

AT = 1_700_000_000.25  # 2023-11-14T22:13:20Z
CSV = frozenset({"text/csv"})


def setting(destination: Path | str, input_: bool = True, output: bool = True) -> CaptureSetting:
    return CaptureSetting(str(destination), 100, input_, output, CSV, frozenset({"application/json"}))


def records(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(root.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def handoff(max_queued_bytes: int = 1 << 20) -> CaptureHandoff:
    return CaptureHandoff(max_queued_bytes=max_queued_bytes, flush_interval_s=0.5, poll_s=0.01)


def test_records_cross_to_the_writer_process_as_the_in_process_writer_writes_them(tmp_path: Path) -> None:
    def calls(root: Path) -> list[tuple[CaptureSetting, str, str, float, bytes, str, bytes, str, str | None]]:
        return [
            (setting(root), "ep", "v1", AT, b"1,2", "text/csv", b'{"p":[0.5]}', "application/json", "id-1"),
            (setting(root), "ep", "v1", AT + 1, b"\x00\xff", "application/x-npy", b"0.1", "text/csv", None),
            (setting(root, output=False), "ep", "v2", AT + 3600, 'é,"x"'.encode(), "text/csv", b"x", "text/csv",
             "id-\u00e9"),
        ]

    h = handoff()
    h.start()
    try:
        for call in calls(tmp_path / "process"):
            assert h.capture(*call)
        h.flush()
        assert h.pid is not None and h.pid != os.getpid()
        counts = h.counts()
        assert (counts[("ep", "v1")].written, counts[("ep", "v2")].written) == (2, 1)
    finally:
        h.stop()
    local = CaptureWriter(max_queued_bytes=1 << 20, flush_interval_s=1.0)  # the same, in this process
    for call in calls(tmp_path / "local"):
        assert local.capture(*call)
    local.stop()

    def without_event_id(record: dict[str, Any]) -> str:
        metadata = dict(record["eventMetadata"])
        assert len(metadata.pop("eventId")) == 36
        return json.dumps({**record, "eventMetadata": metadata}, sort_keys=True)

    remote, expected = records(tmp_path / "process"), records(tmp_path / "local")
    assert len(remote) == 3 and sorted(map(without_event_id, remote)) == sorted(map(without_event_id, expected))
    assert [r["captureData"]["endpointInput"]["encoding"] for r in remote] == ["CSV", "BASE64", "CSV"]
    assert "endpointOutput" not in remote[2]["captureData"]
    assert sorted(p.parent.relative_to(tmp_path / "process").as_posix()
                  for p in (tmp_path / "process").rglob("*.jsonl")) == ["ep/v1/2023/11/14/22", "ep/v2/2023/11/14/23"]


def test_a_killed_writer_process_is_restarted_and_its_unconfirmed_records_counted_lost(tmp_path: Path) -> None:
    h = handoff()
    h.start()
    try:
        for n in range(5):
            h.capture(setting(tmp_path), "ep", "v", AT, f"{n}".encode(), "text/csv", b"0", "text/csv", f"a{n}")
        h.flush()
        first = h.pid
        assert first is not None and h.counts()[("ep", "v")].written == 5
        os.kill(first, signal.SIGSTOP)  # it reads nothing more: the next records sit in the pipe
        for n in range(3):
            h.capture(setting(tmp_path), "ep", "v", AT, f"{n}".encode(), "text/csv", b"0", "text/csv", f"b{n}")
        wait_for(lambda: h.waiting == 0)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: h.restarts == 1)
        for n in range(4):
            h.capture(setting(tmp_path), "ep", "v", AT, f"{n}".encode(), "text/csv", b"0", "text/csv", f"c{n}")
        h.flush()
        assert h.pid not in (None, first)
        counts = h.counts()[("ep", "v")]
        assert (counts.written, counts.lost, counts.dropped, counts.failed) == (9, 3, 0, 0)
        assert h.queued_bytes == 0
    finally:
        h.stop()
    ids = sorted(str(r["eventMetadata"]["inferenceId"]) for r in records(tmp_path))
    assert ids == [f"a{n}" for n in range(5)] + [f"c{n}" for n in range(4)]


def test_overload_drops_and_counts_without_waiting(tmp_path: Path) -> None:
    h = handoff(max_queued_bytes=2048)  # not started yet: nothing leaves the queue
    started = time.perf_counter()
    accepted = [h.capture(setting(tmp_path), "ep", "v", AT, b"x" * 100, "text/csv", b"0", "text/csv", None)
                for _ in range(100)]
    assert time.perf_counter() - started < 0.5
    assert 0 < sum(accepted) < 100
    assert h.counts()[("ep", "v")].dropped == 100 - sum(accepted)
    h.start()
    try:
        h.flush()
        assert h.queued_bytes == 0 and len(records(tmp_path)) == sum(accepted)
        assert h.capture(setting(tmp_path), "ep", "v", AT, b"y", "text/csv", b"0", "text/csv", None)
    finally:
        h.stop()
    assert len(records(tmp_path)) == sum(accepted) + 1


def test_stop_writes_everything_and_the_process_exits(tmp_path: Path) -> None:
    h = handoff()
    h.start()
    for n in range(200):
        h.capture(setting(tmp_path), "ep", "v", AT, f"{n},1".encode(), "text/csv", b"0", "text/csv", None)
    wait_for(lambda: h.pid is not None)
    pid = h.pid
    h.stop()  # no flush before: stop writes what was taken
    assert len(records(tmp_path)) == 200 and h.counts()[("ep", "v")].written == 200
    assert not Path(f"/proc/{pid}").exists()  # exited and reaped


def test_unwritable_destination_reported_through_the_process(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    h = handoff()
    h.start()
    try:
        h.capture(setting(blocker), "ep", "v", AT, b"1", "text/csv", b"0", "text/csv", None)
        h.flush()
        failure = h.failure(str(blocker))
        assert failure is not None and "cannot write to" in failure
        assert h.counts()[("ep", "v")].failed == 1
    finally:
        h.stop()


CRASH = """
import os, sys, time
from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.handoff import CaptureHandoff
h = CaptureHandoff(max_queued_bytes=1 << 20, flush_interval_s=1.0, poll_s=0.01)
h.start()
s = CaptureSetting(sys.argv[1], 100, True, True, frozenset({"text/csv"}), frozenset())
for n in range(10):
    h.capture(s, "ep", "v", 1_700_000_000.0, str(n).encode(), "text/csv", b"0", "text/csv", None)
while h.waiting or h.pid is None:
    time.sleep(0.01)
print(h.pid, flush=True)
os._exit(9)  # the server dies: no stop, no flush
"""


def test_the_writer_process_writes_what_it_holds_and_exits_when_the_server_dies(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", CRASH, str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 9, done.stderr
    pid = int(done.stdout.strip())
    wait_for(lambda: len(records(tmp_path)) == 10)
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")


def test_a_stalled_writer_process_fills_the_bound_then_records_are_dropped_never_waited_for(tmp_path: Path) -> None:
    h = handoff(max_queued_bytes=4 << 20)  # above the 1 MiB pipe: the pipe fills first, then the queue
    h.start()
    try:
        h.capture(setting(tmp_path), "ep", "v", AT, b"0", "text/csv", b"0", "text/csv", None)
        h.flush()
        pid = h.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        body = b"1," * 500
        accepted, total = 0, 12_000  # ~12 MB offered to a process that reads nothing: had capture() waited on
        for _ in range(total):     # the pipe, this loop would never end
            accepted += h.capture(setting(tmp_path), "ep", "v", AT, body, "text/csv", b"0", "text/csv", None)
        assert 1000 < accepted < total and h.queued_bytes <= 4 << 20
        os.kill(pid, signal.SIGCONT)
        h.flush()
        counts = h.counts()[("ep", "v")]
        assert (counts.written, counts.dropped, counts.lost) == (accepted + 1, total - accepted, 0)
        assert h.pid == pid and h.queued_bytes == 0
    finally:
        if h.pid is not None:
            os.kill(h.pid, signal.SIGCONT)
        h.stop()
    assert len(records(tmp_path)) == accepted + 1
