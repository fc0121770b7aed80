"""The capture-writer process, started and supervised by the serving process (``handoff``):

    python -m greenfleet.capture.writer_process RECORDS_FD STATUS_FD FLUSH_INTERVAL_S [S3_ENDPOINT_URL]

It reads frames (``frames``) from RECORDS_FD and hands each record to a ``CaptureWriter`` run in this
process, which encodes SageMaker's JSON lines and writes them to their destinations every
FLUSH_INTERVAL_S and at each FLUSH frame; after each write pass it reports a ``Status`` line on
STATUS_FD. The end of its input (the serving process stopped, or died) makes it write what it holds and
exit, so it never outlives the server. It ignores SIGINT and SIGTERM (its lifetime is the pipe's) and runs
``NICE`` steps below the serving process's priority: under CPU contention, serving goes first."""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import time

from greenfleet.capture.frames import (
    FLUSH,
    RECORD,
    RESET,
    SEQUENCE,
    STREAM,
    Status,
    Stream,
    parse_record,
    parse_stream,
    split,
)
from greenfleet.capture.record import CapturedEvent, EventIds
from greenfleet.capture.writer import CaptureWriter

log = logging.getLogger("greenfleet.capture")
NICE = 10
READ_BYTES = 1 << 20


def serve(records_fd: int, status_fd: int, flush_interval_s: float, s3_endpoint_url: str | None) -> None:
    writer = CaptureWriter(max_queued_bytes=1 << 62, flush_interval_s=flush_interval_s,
                           s3_endpoint_url=s3_endpoint_url, new_id=EventIds())
    streams: dict[int, Stream] = {}
    pending = b""
    done_bytes = received_bytes = confirmed = 0
    unknown = 0
    next_pass = time.monotonic() + flush_interval_s
    ended = False
    poller = select.poll()
    poller.register(records_fd, select.POLLIN)
    while not ended:
        readable = poller.poll(max(next_pass - time.monotonic(), 0.0) * 1000)
        write_now = False
        if readable:
            data = os.read(records_fd, READ_BYTES)
            ended = not data
            buffer = pending + data if pending else data
            frames, used = split(buffer)
            pending = buffer[used:]
            for kind, body in frames:
                if kind == RECORD:
                    stream_id, at, inference_id, request, response = parse_record(body)
                    received_bytes += len(body) + 5
                    stream = streams.get(stream_id)
                    if stream is None:
                        unknown += 1
                        continue
                    writer.offer(CapturedEvent(stream.setting, stream.endpoint, stream.variant, at, request,
                                               stream.request_type, response, stream.response_type, inference_id))
                elif kind == STREAM:
                    stream_id, stream = parse_stream(bytes(body))
                    streams[stream_id] = stream
                elif kind == FLUSH:
                    (confirmed,) = SEQUENCE.unpack(body)
                    write_now = True
                elif kind == RESET:
                    streams.clear()
        if write_now or ended or time.monotonic() >= next_pass:
            next_pass = time.monotonic() + flush_interval_s
            writer.flush()
            done_bytes = received_bytes
            if unknown:
                log.warning("capture writer: %d records of unknown streams skipped", unknown)
                unknown = 0
            counts = {key: (c.written, c.failed) for key, c in writer.counts().items()}
            line = Status(confirmed, done_bytes, counts, writer.failures()).line()
            try:
                os.write(status_fd, line)
            except BrokenPipeError:
                ended = True  # the serving process is gone: write what is left and exit
    writer.stop()


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(NICE)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(int(argv[0]), int(argv[1]), float(argv[2]), argv[3] if len(argv) > 3 and argv[3] else None)


if __name__ == "__main__":
    main(sys.argv[1:])
