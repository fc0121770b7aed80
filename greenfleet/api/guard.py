"""The first thing every request meets: the checks that hold on every face of the base URL.

1. **Host**: the ``Host`` header must name this server (loopback names, the listening address, or
   ``allowed_hosts``), so a DNS-rebinding page cannot reach a laptop install under its own name.
2. **Origin**: a browser request (it carries ``Origin``) must come from this server's own origin; no
   other site's page can drive the API, even with "simple" requests that skip CORS pre-flight.
3. **Form posts**: ``application/x-www-form-urlencoded`` is accepted only on ``POST /`` (CloudWatch's
   query protocol needs it) and only when signed (an ``Authorization`` header, which a browser cannot
   add to a simple request) or sent by a loopback client without ``Origin``; ``multipart/form-data`` and
   ``text/plain`` never reach the control plane.
4. **Bodies**: every body must arrive within ``body_read_timeout_s`` (a client that announces more than
   it sends gets 408 instead of holding the connection); the native API's bodies are capped and must be
   strict JSON (no NaN/Infinity, bounded nesting), except the ``STREAMED`` routes' (a promotion's archive).
5. **Authentication** of the native API and everything else that is not an AWS protocol
   (:class:`~greenfleet.auth.policy.AccessPolicy`); the AWS protocols and InvokeEndpoint check the same
   policy where they read their bodies (their signatures cover them).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from greenfleet.api import jsonbody
from greenfleet.api.read_deadlines import ReadDeadlines, ReadTimedOut
from greenfleet.auth.policy import NATIVE_SERVICES, AccessPolicy, is_loopback
from greenfleet.errors import ValidationError
from greenfleet.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Guard", "allowed_host_names"]

FORM = "application/x-www-form-urlencoded"
BROWSER_SIMPLE = ("multipart/form-data", "text/plain")
OPEN_PATHS = frozenset({"/health"})
DASHBOARD = "/ui"
"""The dashboard's pages and forms: Host and Origin are checked here; sign-in (a session cookie from the API
token), CSRF tokens and same-origin checks are the dashboard's own (greenfleet/dashboard/access.py)."""
WILDCARDS = ("0.0.0.0", "::", "")
STREAMED = frozenset({("POST", "/api/model-packages/import")})
"""Native routes whose body is not JSON and may be larger than MAX_API_BODY_BYTES (a promoted model.tar.gz):
passed on unbuffered, under the read timeout, authenticated by a bearer token (a SigV4 signature over the
body cannot be checked before it is read); the route bounds the size itself."""


def allowed_host_names(listen_host: str, extra: Iterable[str]) -> frozenset[str] | None:
    """Host names (lower-case, no port) a request may name; None: any (``*`` in ``extra``)."""
    names = {"localhost", "127.0.0.1", "::1", listen_host.lower().strip("[]")}
    extras = {h.strip().lower().strip("[]") for h in extra if h.strip()}
    if "*" in extras:
        return None
    if listen_host in WILDCARDS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names | extras)


def _host_only(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Refusal:
    status: int
    code: str
    message: str
    extra: tuple[tuple[bytes, bytes], ...] = ()


class _BodyTimeout(Exception):
    pass


class Guard:
    def __init__(self, app: ASGIApp, policy: AccessPolicy, *, listen_host: str, port: int,
                 allowed_hosts: Iterable[str] = (), max_api_body_bytes: int = 2 * 1024 * 1024,
                 max_aws_body_bytes: int = 10 * 1024 * 1024, body_read_timeout_s: float = 30.0) -> None:
        self.app, self.policy, self.port = app, policy, port
        self.hosts = allowed_host_names(listen_host, allowed_hosts)
        self.any_ip = listen_host in WILDCARDS
        self.max_api_body_bytes, self.max_aws_body_bytes = max_api_body_bytes, max_aws_body_bytes
        self.body_read_timeout_s = body_read_timeout_s
        self.deadlines = ReadDeadlines(body_read_timeout_s)
        self._hosts_seen: set[bytes] = set()
        """Host headers already found to name this server (the invocation path's shortcut; bounded)."""

    # -- the checks -------------------------------------------------------------------------------
    def _host_allowed(self, host: str) -> bool:
        if self.hosts is None:
            return True
        return host in self.hosts or (self.any_ip and _is_ip(host))

    def _headers(self, scope: Scope) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            found.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        return found

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> _Refusal | None:
        refusal = self._site_refusal(headers.get("host", ""), headers.get("origin"))
        if refusal is not None:
            return refusal
        path, method = scope.get("path", ""), scope.get("method", "GET")
        return self._form_refusal(scope, headers, path, method, headers.get("origin"))

    def _site_refusal(self, host_header: str, origin: str | None) -> _Refusal | None:
        """Checks 1 and 2: the Host names this server, a browser's Origin is this server's."""
        host = _host_only(host_header)
        if host and not self._host_allowed(host):  # no Host at all (HTTP/1.0) is no browser's request
            return _Refusal(403, "AccessDeniedException",
                            f"Host '{host_header}' is not a name of this greenfleet server; add it to "
                            "GREENFLEET_ALLOWED_HOSTS to serve it.")
        if origin is not None:
            parts = urlsplit(origin)
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                port = -1
            if not (parts.hostname and self._host_allowed(parts.hostname.lower()) and port == self.port):
                return _Refusal(403, "AccessDeniedException",
                                f"Origin '{origin}' may not call this greenfleet server (cross-site request).")
        return None

    def _form_refusal(self, scope: Scope, headers: dict[str, str], path: str, method: str,
                      origin: str | None) -> _Refusal | None:
        """Check 3: form and other browser-simple bodies."""
        if method in ("GET", "HEAD", "OPTIONS") or _is_dashboard(path):
            return None
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media == FORM:
            if path != "/":
                return _Refusal(415, "UnsupportedMediaType",
                                "Form-encoded bodies are accepted only by the AWS query protocol on POST /; "
                                "send application/json.")
            client = scope.get("client") or ("", 0)
            signed = "authorization" in headers
            if not signed and not (is_loopback(str(client[0])) and origin is None):
                return _Refusal(403, "AccessDeniedException",
                                "An unsigned form-encoded request is accepted only from a loopback client "
                                "without Origin; sign it with SigV4.")
        elif media in BROWSER_SIMPLE:
            return _Refusal(415, "UnsupportedMediaType",
                            f"Content-Type '{media}' is not accepted here; send application/json.")
        return None

    # -- the middleware ---------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if _is_invocation(path):  # the data plane's hot path: only Host and Origin, read straight off the scope
            host, origin = b"", None
            for key, value in scope["headers"]:
                if key == b"host":
                    host = value
                elif key == b"origin":
                    origin = value.decode("latin-1")
            if origin is not None or host not in self._hosts_seen:
                refusal = self._site_refusal(host.decode("latin-1"), origin)
                if refusal is not None:
                    await _answer(send, refusal)
                    return
                if origin is None and len(self._hosts_seen) < _HOSTS_SEEN_MAX:
                    self._hosts_seen.add(host)
            await self._with_read_timeout(scope, receive, send)  # the data plane reads (capped) and verifies
            return
        headers = self._headers(scope)
        refusal = self._refusal(scope, headers)
        if refusal is None and (scope.get("method"), path) in STREAMED:  # authenticated by its headers alone
            refusal = self._authenticate(scope, headers, b"")
            if refusal is None:
                await self._with_read_timeout(scope, receive, send)
                return
        if refusal is not None:
            await _answer(send, refusal)
            return
        aws = path == "/" or path.startswith("/endpoints/")  # these faces verify SigV4 over their bodies
        limit = self.max_aws_body_bytes if aws else self.max_api_body_bytes
        try:
            body = await self._read(receive, headers, limit)
        except _TooLarge:
            setting = "MAX_AWS_BODY_BYTES" if aws else "MAX_API_BODY_BYTES"
            await _answer(send, _Refusal(413, "RequestEntityTooLarge", f"Request body is more than {limit} "
                                         f"bytes (GREENFLEET_{setting})."))
            return
        except _BodyTimeout:
            await _answer(send, _timeout(self.body_read_timeout_s))
            return
        refusal = None if aws else (self._authenticate(scope, headers, body)
                                    or self._json_refusal(scope, headers, body))
        if refusal is not None:
            await _answer(send, refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _with_read_timeout(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def timed_receive() -> Message:
            try:
                return await self.deadlines.receive(receive)
            except ReadTimedOut:
                raise _BodyTimeout from None

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, tracking_send)
        except _BodyTimeout:
            if not started:
                await _answer(send, _timeout(self.body_read_timeout_s))

    async def _read(self, receive: Receive, headers: dict[str, str], limit: int) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await self.deadlines.receive(receive)
            except ReadTimedOut:
                raise _BodyTimeout from None
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _authenticate(self, scope: Scope, headers: dict[str, str], body: bytes) -> _Refusal | None:
        if self.policy.open or scope.get("path", "") in OPEN_PATHS or _is_dashboard(scope.get("path", "")):
            return None
        raw_path = (scope.get("raw_path") or scope.get("path", "").encode()).decode("latin-1")
        failure = self.policy.check(scope.get("method", "GET"), raw_path,
                                    scope.get("query_string", b"").decode("latin-1"), list(headers.items()), body,
                                    time.time(), NATIVE_SERVICES)
        if failure is None:
            return None
        hint = " Send 'Authorization: Bearer <token>' (GREENFLEET_API_TOKEN) or sign the request with SigV4."
        return _Refusal(401, "UnauthorizedException", failure.message + hint,
                        ((b"www-authenticate", b'Bearer realm="greenfleet"'),))

    @staticmethod
    def _json_refusal(scope: Scope, headers: dict[str, str], body: bytes) -> _Refusal | None:
        if not body.strip() or scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE"):
            return None
        media = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if media not in ("application/json", "") and not media.endswith("+json"):
            return None  # FastAPI refuses bodies it cannot read as JSON on its own
        try:
            jsonbody.parse(body)
        except ValidationError as exc:
            return _Refusal(400, "ValidationException", exc.message)
        return None


_HOSTS_SEEN_MAX = 64


class _TooLarge(Exception):
    pass


def _is_dashboard(path: str) -> bool:
    return path == DASHBOARD or path.startswith(f"{DASHBOARD}/")


def _is_invocation(path: str) -> bool:
    """InvokeEndpoint, which the gateway hands to the data plane."""
    return path.startswith("/endpoints/") and path.endswith("/invocations") and path.count("/") == 3


def _timeout(seconds: float) -> _Refusal:
    return _Refusal(408, "RequestTimeout", f"The request body did not arrive within {seconds:g} s.")


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the connection's own messages (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, refusal: _Refusal) -> None:
    body = json.dumps({"__type": refusal.code, "code": refusal.code, "message": refusal.message,
                       "Message": refusal.message}).encode()
    await send({"type": "http.response.start", "status": refusal.status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"x-amzn-errortype", refusal.code.encode()), (b"connection", b"close"), *refusal.extra]})
    await send({"type": "http.response.body", "body": body})
