"""An inference pipeline supervisor's end of a member's lane (``lane.py``, ``lane_server.py``): pooled
connections to the member's Unix-domain socket on the supervisor's event loop, one per call in flight.

The invocation timeout is enforced here: a call not answered in time raises :class:`LaneTimeout` and its
connection is dropped (the member's thread sees it and ends once its call returns). A member that closes the
connection before answering (it died) raises :class:`LaneClosed`. A member with no socket, never connected,
raises :class:`LaneUnavailable`: it serves no lane (a ``greenfleet/command`` image runs its own server) and is
called over HTTP instead.

Waiting for a quick member, the supervisor polls before it sleeps. A call in a Serial pipeline is a chain of
short hops, and on an idle VM each hop paid two process wake-ups (the member's, then the supervisor's when the
answer came), each a halted virtual CPU woken by the host. When a call is the only one in flight in this
process and the member's recent answers came within :data:`SPIN_S`, the supervisor polls the connection (giving
the CPU up between polls with ``sched_yield``, so a runnable process on the same CPU, the member included, goes
first) for up to :data:`SPIN_S` after sending; the answer is then read without a wake-up. The event loop is held
only while no other lane call is in flight (anything else it serves, an HTTP member's answer, a ping, a new
request, waits at most :data:`SPIN_S`) and only once the whole request has been written; a member whose answers
take longer is never polled for.
Measured quiet (bench/README.md, "Polling for a quick member"): each extra Serial script container 0.089 ms p50
driven directly (0.124 ms without), 0.202-0.209 ms through server and router (0.213-0.255 ms without, same
runs); the price is the supervisor's CPU, ~50 µs more per container call while it is the only call in flight.
"""

from __future__ import annotations

import asyncio
import os
import select
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import cast

from greenfleet.workers.lane import AnswerReader, FrameError, LaneAnswer, LaneRequest, encode_request

__all__ = ["Lane", "LaneClosed", "LaneTimeout", "LaneUnavailable"]

CONNECT_TIMEOUT_S = 2.0
SPIN_S = 300e-6
"""The longest the supervisor polls for an answer before it sleeps (see the module's docstring)."""
TYPICAL_WEIGHT = 0.2
"""Weight of the newest answer time in a lane's typical answer time (exponentially weighted)."""


class LaneUnavailable(Exception):
    """The member has no lane socket and never had one: call it over HTTP."""


class LaneClosed(Exception):
    """The lane was closed (or could not be opened) before the member answered."""


class LaneTimeout(Exception):
    """The member did not answer within the invocation timeout."""


class _Connection(asyncio.Protocol):
    """One connection to a member's lane; one call at a time. Its answer settles the call's future from the
    protocol's callback and puts the connection back in its lane's pool (no task or coroutine of its own)."""

    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.transport: asyncio.Transport | None = None
        self.reader = AnswerReader()
        self.waiter: asyncio.Future[LaneAnswer] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.open = False
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport, self.open = cast(asyncio.Transport, transport), True

    def data_received(self, data: bytes) -> None:
        try:
            answers = self.reader.feed(data)
        except FrameError as exc:
            self.fail(LaneClosed(f"malformed answer on the lane: {exc}"))
            return
        if not answers:
            return
        waiter, timer = self.waiter, self.timer
        self.waiter = self.timer = None
        if timer is not None:
            timer.cancel()
        if waiter is not None:
            self.lane.answered(time.perf_counter() - self.sent_at)
        if waiter is not None and not waiter.done():
            self.lane._idle.append(self)
            waiter.set_result(answers[0])
        else:  # an answer nobody waits for any more (the caller was cancelled): not reused
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(LaneClosed(f"the lane was closed before an answer{': ' + str(exc) if exc else ''}"))

    def fail(self, exc: Exception) -> None:
        """The call in flight fails with ``exc`` and the connection is dropped."""
        self.close()
        waiter, timer = self.waiter, self.timer
        self.waiter = self.timer = None
        if timer is not None:
            timer.cancel()
        if waiter is not None:
            self.lane.answered(None)
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def send(self, data: bytes, loop: asyncio.AbstractEventLoop, timeout_s: float) -> asyncio.Future[LaneAnswer]:
        """The call's future; LaneClosed at once if the connection was lost before the call could be sent."""
        transport = self.transport
        if not self.open or transport is None or transport.is_closing():
            raise LaneClosed("the lane was closed before the call was sent")
        self.waiter = waiter = loop.create_future()
        self.timer = loop.call_later(timeout_s, self._expire, timeout_s)
        poll = self.lane.sent()  # counted in flight from here: answered() counts it out whatever ends it
        self.sent_at = time.perf_counter()
        try:
            transport.write(data)
        except (OSError, RuntimeError) as exc:  # (uvloop raises RuntimeError on a transport closed meanwhile)
            self.fail(LaneClosed(f"the lane was closed before the call was sent: {exc}"))
            return waiter
        if poll and not transport.get_write_buffer_size():  # (the rest of a large body waits for the loop)
            _poll_briefly(transport, self.sent_at + SPIN_S)
        return waiter

    def _expire(self, timeout_s: float) -> None:
        self.fail(LaneTimeout(f"did not answer within {timeout_s:g} s"))

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


class Lane:
    """Calls to one member over its lane at ``path``."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.connected = False
        """Whether a connection was ever opened (then a missing socket is a member gone, not one without)."""
        self._idle: list[_Connection] = []
        self.typical_s = SPIN_S
        """The member's typical answer time (exponentially weighted; starts at the polling limit)."""

    def sent(self) -> bool:
        """Count a call in flight; whether to poll for its answer (the only call in flight in this process,
        and this member typically answers within :data:`SPIN_S`)."""
        _flight.calls += 1
        return _flight.calls == 1 and self.typical_s < SPIN_S

    def answered(self, elapsed_s: float | None) -> None:
        """A call ended: answered after ``elapsed_s``, or failed (None; the typical time is kept)."""
        _flight.calls -= 1
        if elapsed_s is not None:
            self.typical_s += TYPICAL_WEIGHT * (elapsed_s - self.typical_s)

    def call(self, request: LaneRequest) -> Awaitable[LaneAnswer]:
        """The member's answer: a future settled by the connection when one is pooled (the usual case, one
        await less per hop), else a connection is opened first. Raises LaneTimeout, LaneClosed or
        LaneUnavailable (see the module's docstring)."""
        while self._idle:
            connection = self._idle.pop()
            if connection.open:
                return connection.send(encode_request(request), asyncio.get_running_loop(), self.timeout_s)
        return self._call_connecting(request)

    async def _call_connecting(self, request: LaneRequest) -> LaneAnswer:
        loop = asyncio.get_running_loop()
        connection = await self._connect(loop)
        return await connection.send(encode_request(request), loop, self.timeout_s)

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        try:
            _, connection = await asyncio.wait_for(
                loop.create_unix_connection(lambda: _Connection(self), str(self.path)), CONNECT_TIMEOUT_S)
        except FileNotFoundError as exc:
            if not self.connected:
                raise LaneUnavailable(str(self.path)) from exc
            raise LaneClosed(f"its lane is gone: {exc}") from exc
        except (OSError, TimeoutError) as exc:
            raise LaneClosed(f"its lane cannot be opened: {exc or type(exc).__name__}") from exc
        self.connected = True
        return connection

    @property
    def pooled(self) -> int:
        """Idle connections kept for the next calls."""
        return len(self._idle)

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


class _Flight:
    """Lane calls in flight in this process (one event loop), over all lanes."""

    calls = 0


_flight = _Flight()


def _poll_briefly(transport: asyncio.Transport, until: float) -> None:
    """Poll ``transport``'s socket for something to read until ``until`` (perf_counter), yielding the CPU
    between polls; the event loop reads it next."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    while not poller.poll(0) and time.perf_counter() < until:
        os.sched_yield()
