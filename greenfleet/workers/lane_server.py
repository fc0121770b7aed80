"""A pipeline member's end of its lane (``lane.py``): a Unix-domain socket the supervisor names in
``GREENFLEET_LANE_SOCKET``, served beside the member's HTTP server by plain threads.

Each connection the supervisor opens gets a thread that blocks on it, reads a request frame and answers it
itself: the lane's thread is the model thread for that call (no event loop, no hand-off between threads). It
answers through the HTTP app's :class:`~greenfleet.workers.invocation.Invocations` and takes its turn from the
same :class:`~greenfleet.workers.slots.Slots`, so both ways in give the same answers and never run more calls
at once than ``SAGEMAKER_MODEL_SERVER_WORKERS`` allows. The invocation timeout is the supervisor's: it drops
the connection of a call it gave up; a call that had to wait for a slot and whose connection was dropped
meanwhile is not run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
from pathlib import Path

from greenfleet.workers.invocation import TEXT, Invocations
from greenfleet.workers.lane import FrameError, LaneAnswer, LaneRequest, RequestReader, encode_answer

__all__ = ["LaneServer"]

_log = logging.getLogger("greenfleet.workers")
RECEIVE_BYTES = 64 * 1024


class LaneServer:
    """Accepts the supervisor's connections on ``path`` (readable and writable by this user only)."""

    def __init__(self, path: Path, invocations: Invocations) -> None:
        self.path = path
        self.invocations = invocations
        self._listener: socket.socket | None = None

    def start(self) -> None:
        """Bind (a stale socket file is replaced) and accept on a daemon thread; OSError if it cannot bind."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.path))
            os.chmod(self.path, 0o600)
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="lane-accept", daemon=True).start()

    def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (a close alone does not)
            self._listener.close()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _accept(self, listener: socket.socket) -> None:
        count = 0
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed
                return
            count += 1
            threading.Thread(target=self._serve, args=(connection,), name=f"lane-{count}", daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        reader = RequestReader()
        buffer = bytearray(RECEIVE_BYTES)  # reused: a fresh bytes object this large per recv is an mmap each time
        view = memoryview(buffer)
        try:
            while True:
                size = connection.recv_into(buffer)
                if not size:
                    return
                for request in reader.feed(view[:size]):
                    answer = self._answer(connection, request)
                    if answer is None:
                        return
                    connection.sendall(encode_answer(answer))
        except FrameError as exc:
            _log.warning("lane connection dropped: %s", exc)
        except OSError:  # the supervisor dropped the connection (a call it gave up)
            pass
        finally:
            connection.close()

    def _answer(self, connection: socket.socket, request: LaneRequest) -> LaneAnswer | None:
        """The answer, on this thread; None when the call waited for a slot and its caller has gone."""
        calls = self.invocations
        refused = calls.oversized(request.body, request.content_type)
        if refused is not None:
            return LaneAnswer(refused.status, refused.content_type, "", refused.body)
        token = calls.slots.try_enter()
        if token is None:  # every slot is taken: wait (as the HTTP app does, up to the timeout)
            token = calls.slots.enter(wait_s=calls.slots.timeout_s)
            if token is None:
                late = f"the model did not answer within {calls.slots.timeout_s:g} s"
                return LaneAnswer(504, TEXT, "", late.encode())
            if _dropped(connection):  # the supervisor gave the call up meanwhile
                calls.slots.leave(token)
                return None
        try:
            answer = calls.answer(request.body, request.content_type, calls.accept_for(request.accept))
        finally:
            calls.slots.leave(token)
        return LaneAnswer(answer.status, answer.content_type, "", answer.body)


def _dropped(connection: socket.socket) -> bool:
    """Whether the peer closed ``connection`` (it sends nothing else while it waits for an answer)."""
    poller = select.poll()
    poller.register(connection, select.POLLIN)
    if not poller.poll(0):
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
