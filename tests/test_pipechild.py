"""A helper process on two pipes (greenfleet/pipechild.py): it starts with the fds it is given, and a child
that dies young is restarted after a doubling back-off, one that ran a while at once."""

from __future__ import annotations

import os
import select
from pathlib import Path

import pytest

from greenfleet.clock import FakeClock
from greenfleet.pipechild import RestartBackoff, spawn


def test_a_child_that_dies_young_waits_a_doubling_back_off_and_one_that_ran_a_while_restarts_at_once() -> None:
    clock = FakeClock(100.0)
    restart = RestartBackoff(first_s=0.5, max_s=2.0, young_s=5.0, clock=clock.now)
    assert restart.due()
    waits = []
    for _ in range(4):
        restart.exited(started=clock.now() - 1)  # died a second after it started
        assert not restart.due()
        start = clock.now()
        while not restart.due():
            clock.advance(0.25)
        waits.append(clock.now() - start)
    assert waits == [0.5, 1.0, 2.0, 2.0]  # doubling, capped at max_s
    restart.exited(started=clock.now() - 60)  # it had run a minute: at once, and the back-off starts over
    assert restart.due()
    restart.failed()  # could not start
    assert not restart.due()
    clock.advance(0.5)
    assert restart.due()


def _read_all(fd: int) -> bytes:
    poller, data = select.poll(), b""
    poller.register(fd, select.POLLIN)
    while poller.poll(10_000):
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"the child wrote {data!r} and then nothing for 10 s")


def test_a_child_reads_the_parents_pipe_and_answers_on_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # the child finds tests.pipe_echo from the checkout
    child = spawn("tests.pipe_echo", ["x", "y"])
    try:
        assert not os.get_blocking(child.to_child) and not os.get_blocking(child.from_child)
        os.write(child.to_child, b"hello")
        os.close(child.to_child)  # the child reads to the end
        assert _read_all(child.from_child) == b"HELLO x y"
        assert child.process.wait(10) == 0
    finally:
        os.close(child.from_child)


def test_a_child_that_cannot_start_leaves_no_pipe_open(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    pipe = os.pipe

    def recorded_pipe() -> tuple[int, int]:
        ends = pipe()
        made.extend(ends)
        return ends

    monkeypatch.setattr(os, "pipe", recorded_pipe)
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    with pytest.raises(OSError):
        spawn("tests.pipe_echo", [])
    assert len(made) >= 4  # spawn's two pipes (and Popen's own)
    for fd in made:
        with pytest.raises(OSError):
            os.fstat(fd)  # closed


def test_a_second_pipe_that_cannot_be_made_leaves_the_first_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    pipe = os.pipe

    def second_fails() -> tuple[int, int]:
        if made:
            raise OSError(24, "Too many open files")
        ends = pipe()
        made.extend(ends)
        return ends

    monkeypatch.setattr(os, "pipe", second_fails)
    with pytest.raises(OSError, match="Too many open files"):
        spawn("tests.pipe_echo", [])
    for fd in made:
        with pytest.raises(OSError):
            os.fstat(fd)
