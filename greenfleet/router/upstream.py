"""HTTP/1.1 keep-alive calls from the router to model instances (aiohttp's client: pooled, fast)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from greenfleet.router.table import InstanceAddress


class InstanceUnreachable(Exception):
    """The request never reached the model (connection refused/reset before a response): safe to retry."""


class InstanceTimeout(Exception):
    """The model did not answer within the invocation timeout."""


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    body: bytes
    content_type: str | None
    custom_attributes: str | None


class Upstream:
    def __init__(self, timeout_s: float) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=2.0)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=64, keepalive_timeout=30,
                                             enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout,
                                                  skip_auto_headers=("User-Agent", "Accept-Encoding"),
                                                  auto_decompress=False)
        return self._session

    async def invoke(self, instance: InstanceAddress, body: bytes, headers: dict[str, str]) -> UpstreamResponse:
        url = f"http://{instance.host}:{instance.port}/invocations"
        try:
            async with self._client().post(url, data=body, headers=headers) as response:
                payload = await response.read()
                return UpstreamResponse(
                    response.status, payload, response.headers.get("Content-Type"),
                    response.headers.get("X-Amzn-SageMaker-Custom-Attributes"),
                )
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
            raise InstanceUnreachable(str(exc)) from exc
        except TimeoutError as exc:
            raise InstanceTimeout(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise InstanceUnreachable(str(exc)) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
