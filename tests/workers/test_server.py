"""The worker's ASGI app, in-process with a fake runtime: routing, status codes, the model thread."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from greenfleet.workers.errors import ModelInputError, UnsupportedContentType
from greenfleet.workers.server import InvocationApp
from greenfleet.workers.watchdog import Heartbeat, is_orphaned


class FakeRuntime:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def load(self, model_dir: Path) -> None:
        pass

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        self.threads.append(threading.current_thread().name)
        if body == b"bad":
            raise ModelInputError("bad input")
        if body == b"boom":
            raise RuntimeError("the model broke")
        if content_type == "image/png":
            raise UnsupportedContentType("no images")
        return body.upper() + f"|{content_type}|{accept}".encode(), "text/plain"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def exchange(app: InvocationApp, method: str, path: str, **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
            return await client.request(method, path, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


def make_app(runtime: FakeRuntime, heartbeat: Heartbeat | None = None, inline_max_bytes: int = 100) -> InvocationApp:
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
    return InvocationApp(runtime, heartbeat or Heartbeat(), inline_max_bytes=inline_max_bytes, executor=executor)


def test_ping_beats_the_heartbeat() -> None:
    clock = FakeClock()
    heartbeat = Heartbeat(clock)
    clock.now = 160.0
    assert heartbeat.silence_s() == 60.0
    assert exchange(make_app(FakeRuntime(), heartbeat), "GET", "/ping").status_code == 200
    assert heartbeat.silence_s() == 0.0


def test_invocations_pass_content_type_and_accept() -> None:
    response = exchange(
        make_app(FakeRuntime()),
        "POST",
        "/invocations",
        content=b"abc",
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.content == b"ABC|text/csv|text/csv"
    assert response.headers["content-type"] == "text/plain"


def test_errors_map_to_statuses_with_their_message() -> None:
    app = make_app(FakeRuntime())
    bad = exchange(app, "POST", "/invocations", content=b"bad")
    assert (bad.status_code, bad.text) == (400, "bad input")
    boom = exchange(app, "POST", "/invocations", content=b"boom")
    assert (boom.status_code, boom.text) == (500, "RuntimeError: the model broke")
    png = exchange(app, "POST", "/invocations", content=b"x", headers={"Content-Type": "image/png"})
    assert png.status_code == 415


def test_routes_and_methods() -> None:
    app = make_app(FakeRuntime())
    assert exchange(app, "GET", "/invocations").status_code == 405
    assert exchange(app, "POST", "/ping").status_code == 405
    assert exchange(app, "GET", "/").status_code == 404


def test_small_bodies_run_inline_and_large_ones_on_the_model_thread() -> None:
    runtime = FakeRuntime()
    app = make_app(runtime, inline_max_bytes=10)
    exchange(app, "POST", "/invocations", content=b"small")
    exchange(app, "POST", "/invocations", content=b"x" * 11)
    assert not runtime.threads[0].startswith("model")
    assert runtime.threads[1].startswith("model")


def test_model_thread_calls_map_errors_like_inline_ones() -> None:
    runtime = FakeRuntime()
    app = make_app(runtime, inline_max_bytes=0)
    ok = exchange(app, "POST", "/invocations", content=b"abc", headers={"Content-Type": "text/csv"})
    assert (ok.status_code, ok.content) == (200, b"ABC|text/csv|*/*")
    bad = exchange(app, "POST", "/invocations", content=b"bad")
    assert (bad.status_code, bad.text) == (400, "bad input")
    boom = exchange(app, "POST", "/invocations", content=b"boom")
    assert (boom.status_code, boom.text) == (500, "RuntimeError: the model broke")
    assert all(name.startswith("model") for name in runtime.threads)


class HeldRuntime(FakeRuntime):
    """Holds the call whose body is ``hold`` until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.finished = threading.Event()

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if body == b"hold":
            self.release.wait(10)
            self.finished.set()
        return super().invoke(body, content_type, accept)


def test_a_call_past_the_timeout_is_answered_504_and_its_late_answer_dropped() -> None:
    runtime = HeldRuntime()
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="model")
    app = InvocationApp(runtime, Heartbeat(), inline_max_bytes=0, executor=executor, timeout_s=0.05)

    async def go() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
            held = await client.post("/invocations", content=b"hold")
            quick = await client.post("/invocations", content=b"next")  # the slot was given back
            runtime.release.set()  # the held call ends after its request was answered: its answer is dropped
            await asyncio.get_running_loop().run_in_executor(None, runtime.finished.wait, 10)
            return held, quick

    held, quick = asyncio.run(go())
    executor.shutdown(wait=True)
    assert (held.status_code, held.text) == (504, "the model did not answer within 0.05 s")
    assert (quick.status_code, quick.content) == (200, b"NEXT||*/*")
    assert app.abandoned == 1


def test_is_orphaned_needs_both_a_new_parent_and_silence() -> None:
    assert not is_orphaned(10, 10, silence_s=999, grace_s=60)
    assert not is_orphaned(10, 1, silence_s=59, grace_s=60)
    assert is_orphaned(10, 1, silence_s=60, grace_s=60)


def test_a_call_that_finds_every_slot_held_by_abandoned_calls_is_answered_504_not_held() -> None:
    runtime = HeldRuntime()
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="model")
    app = InvocationApp(runtime, Heartbeat(), inline_max_bytes=0, executor=executor, timeout_s=0.05, spare=0)

    async def go() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
            held = await client.post("/invocations", content=b"hold")
            refused = await client.post("/invocations", content=b"next")  # no abandoned call may run beside it
            runtime.release.set()
            await asyncio.get_running_loop().run_in_executor(None, runtime.finished.wait, 10)
            return held, refused

    held, refused = asyncio.run(go())
    executor.shutdown(wait=True)
    assert held.status_code == 504
    assert (refused.status_code, refused.text) == (504, "the model did not answer within 0.05 s")
    assert runtime.threads == ["model_0"]  # the refused call never reached the model
