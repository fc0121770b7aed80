"""The client's calls of evidence and promotion (issue 18): a version's check results, its kept
model.tar.gz, and the target's half of ``greenfleet promote``. ``Client`` inherits them;
``greenfleet.registry.promotion.promote`` uses them on two clients."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from greenfleet.clienterrors import ApiError, ServerUnreachable

if TYPE_CHECKING:
    import httpx

Doc = dict[str, Any]
CHUNK = 1024 * 1024
SHA_HEADER = "x-greenfleet-artifact-sha256"
MANIFEST_HEADER = "X-Greenfleet-Manifest-Bytes"


def _version_path(name: str) -> str:
    tail = name.split(":model-package/", 1)[-1]
    group, _, version = tail.rpartition("/")
    return f"{quote(group, safe='')}/{quote(version, safe='')}"


class PromotionCalls:
    base_url: str
    _http: httpx.Client

    def _registry_call(self, method: str, url: str, body: Doc | None = None, by: str | None = None) -> Doc:
        raise NotImplementedError

    def _call(self, method: str, url: str, body: Doc | None = None, query: Doc | None = None) -> Doc:
        raise NotImplementedError

    def put_model_package_evidence(self, ModelPackageName: str, *, by: str | None = None, **params: Any) -> Doc:
        """Record one check result (``Check``, ``Status`` Passed|Failed, optional ``Detail`` and ``Url``)."""
        return self._registry_call("POST", f"/api/model-packages/{_version_path(ModelPackageName)}/evidence",
                                   params, by)

    def list_model_package_evidence(self, ModelPackageName: str) -> Doc:
        return self._call("GET", f"/api/model-packages/{_version_path(ModelPackageName)}/evidence")

    def get_model_package_artifact(self, ModelPackageName: str, Destination: str | Path) -> Doc:
        """Download the version's kept model.tar.gz to ``Destination``; returns the digest the server
        declared (``Sha256``), the digest of the bytes received (``ReceivedSha256``) and ``Bytes``."""
        import httpx

        hasher, size = hashlib.sha256(), 0
        url = f"/api/model-packages/{_version_path(ModelPackageName)}/artifact"
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code >= 400:
                    response.read()
                    from greenfleet.client import _error

                    raise _error(response)
                declared = response.headers.get(SHA_HEADER, "")
                with Path(Destination).open("wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        hasher.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach greenfleet at {self.base_url}: {exc}") from exc
        return {"Sha256": declared, "ReceivedSha256": hasher.hexdigest(), "Bytes": size}

    def import_model_package(self, Manifest: Doc, Artifact: str | Path | None = None, *,
                             by: str | None = None) -> Doc:
        """Send a promotion to this (target) server: the manifest, then the model.tar.gz at ``Artifact``,
        streamed in one request. The server checks the bytes against ``Manifest['ArtifactSha256']``. Without
        ``Artifact``, the copy already made of that source version is returned (``Created`` false), or
        ResourceNotFound is raised when there is none yet."""
        import httpx

        head = json.dumps(Manifest).encode()
        path = Path(Artifact) if Artifact is not None else None

        def body() -> Iterator[bytes]:
            yield head
            if path is not None:
                with path.open("rb") as stream:
                    while chunk := stream.read(CHUNK):
                        yield chunk

        size = path.stat().st_size if path is not None else 0
        headers = {"Content-Type": "application/octet-stream", MANIFEST_HEADER: str(len(head)),
                   "Content-Length": str(len(head) + size)}
        if by:
            headers["X-Greenfleet-Caller"] = by
        try:
            response = self._http.post("/api/model-packages/import", content=body(), headers=headers)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach greenfleet at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            from greenfleet.client import _error

            raise _error(response)
        result: Doc = response.json()
        return result


__all__ = ["ApiError", "PromotionCalls"]
