"""The model registry on the native REST API: groups, versions, approvals, the audit trail, the
``champion`` alias, "which version served endpoint E at time T" and deployment bindings. Bodies and
answers are SageMaker's shapes where SageMaker has the operation. ``X-Greenfleet-Caller`` names who acts
(recorded in the audit trail)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from greenfleet.api import jsonbody
from greenfleet.api.routing import json_body, route
from greenfleet.artifacts import ArtifactError
from greenfleet.errors import ResourceNotFound, ValidationError
from greenfleet.metrics.timestamps import parse_time
from greenfleet.registry.caller import CALLER_HEADER, acting_as, from_header

router = APIRouter()
Doc = dict[str, Any]
INTEGERS = ("MaxResults",)


def _as_caller(request: Request, call: Callable[[], Doc]) -> Doc:
    with acting_as(from_header(request.headers.get(CALLER_HEADER))):
        return call()


def _registry(request: Request) -> Any:
    return request.app.state.services.registry


def _query(request: Request) -> Doc:
    return {k: int(v) if k in INTEGERS and v.isdigit() else v for k, v in request.query_params.items()}


@route(router, "CreateModelPackageGroup")
def create_group(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _as_caller(request, lambda: _registry(request).create_model_package_group(body))


@route(router, "ListModelPackageGroups")
def list_groups(request: Request) -> Doc:
    return _registry(request).list_model_package_groups(_query(request))  # type: ignore[no-any-return]


@route(router, "DescribeModelPackageGroup")
def describe_group(request: Request, name: str) -> Doc:
    return _registry(request).describe_model_package_group(  # type: ignore[no-any-return]
        {"ModelPackageGroupName": name})


@route(router, "DeleteModelPackageGroup")
def delete_group(request: Request, name: str) -> Doc:
    return _as_caller(request, lambda: _registry(request).delete_model_package_group({"ModelPackageGroupName": name}))


@route(router, "ModelPackageHistory")
def history(request: Request, name: str, version: int | None = None) -> Doc:
    return request.app.state.services.registry_audit.history(name, version)  # type: ignore[no-any-return]


@route(router, "Champion")
def champion(request: Request, name: str) -> Doc:
    return request.app.state.services.bindings.champion(name)  # type: ignore[no-any-return]


@route(router, "CreateModelPackage")
def create_package(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _as_caller(request, lambda: _registry(request).create_model_package(body))


@route(router, "ListModelPackages")
def list_packages(request: Request) -> Doc:
    return _registry(request).list_model_packages(_query(request))  # type: ignore[no-any-return]


@route(router, "DescribeModelPackage")
def describe_package(request: Request, group: str, version: int) -> Doc:
    return _registry(request).describe_model_package(  # type: ignore[no-any-return]
        {"ModelPackageName": f"{group}/{version}"})


@route(router, "UpdateModelPackage")
def update_package(request: Request, group: str, version: int, body: Doc = Depends(json_body)) -> Doc:
    registry = _registry(request)
    arn = registry.package(f"{group}/{version}")["arn"]
    return _as_caller(request, lambda: registry.update_model_package({**body, "ModelPackageArn": arn}))


@route(router, "DeleteModelPackage")
def delete_package(request: Request, group: str, version: int) -> Doc:
    return _as_caller(request, lambda: _registry(request).delete_model_package(
        {"ModelPackageName": f"{group}/{version}"}))


@route(router, "ServedAt")
def served(request: Request, EndpointName: str, At: str) -> Doc:
    return request.app.state.services.registry_audit.served(  # type: ignore[no-any-return]
        EndpointName, parse_time(At, "At"))


@route(router, "CreateRegistryBinding")
def bind(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _as_caller(request, lambda: request.app.state.services.bindings.bind(body))


@route(router, "ListRegistryBindings")
def list_bindings(request: Request, ModelPackageGroupName: str | None = None) -> Doc:
    return request.app.state.services.bindings.list_bindings(ModelPackageGroupName)  # type: ignore[no-any-return]


@route(router, "DescribeRegistryBinding")
def describe_binding(request: Request, endpoint: str) -> Doc:
    return request.app.state.services.bindings.describe(endpoint)  # type: ignore[no-any-return]


@route(router, "DeleteRegistryBinding")
def unbind(request: Request, endpoint: str) -> Doc:
    return request.app.state.services.bindings.unbind(endpoint)  # type: ignore[no-any-return]


# --- evidence and promotion (issue 18) -------------------------------------------------------------------
MANIFEST_HEADER = "x-greenfleet-manifest-bytes"
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
SHA_HEADER = "X-Greenfleet-Artifact-Sha256"


@route(router, "PutModelPackageEvidence")
def put_evidence(request: Request, group: str, version: int, body: Doc = Depends(json_body)) -> Doc:
    row = _registry(request).package(f"{group}/{version}")
    return _as_caller(request, lambda: request.app.state.services.registry_evidence.record(row, body))


@route(router, "ListModelPackageEvidence")
def list_evidence(request: Request, group: str, version: int) -> Doc:
    row = _registry(request).package(f"{group}/{version}")
    return request.app.state.services.registry_evidence.listing(row)  # type: ignore[no-any-return]


@route(router, "GetModelPackageArtifact")
def get_artifact(request: Request, group: str, version: int) -> FileResponse:
    registry = _registry(request)
    row = registry.package(f"{group}/{version}")
    artifact = row["spec"].get("GreenfleetArtifact")
    if not artifact:
        raise ValidationError(f"ModelPackage {row['arn']} has no kept artifact (it was registered without "
                              "ModelDataUrl)")
    try:
        path, temporary = registry.artifacts.local_file(artifact)
    except ArtifactError as exc:
        raise ValidationError(str(exc)) from exc
    cleanup = BackgroundTask(path.unlink, missing_ok=True) if temporary else None
    return FileResponse(path, media_type="application/gzip", filename=f"{row['group_name']}-{row['version']}.tar.gz",
                        headers={SHA_HEADER: artifact["Sha256"]}, background=cleanup)


@route(router, "ImportModelPackage")
async def import_package(request: Request) -> Doc:
    """The body is the manifest (``X-Greenfleet-Manifest-Bytes`` bytes of JSON) followed by the model.tar.gz;
    the guard streams it here unbuffered (its size is bounded by GREENFLEET_ARTIFACT_MAX_BYTES). A body that
    is the manifest alone asks for the copy already made of that source version: answered as a repeated
    promotion is (Created false), or ResourceNotFound when there is none yet (then send the bytes)."""
    importer, registry = request.app.state.services.registry_imports, _registry(request)
    declared = request.headers.get(MANIFEST_HEADER, "")
    if not declared.isdigit() or not 0 < int(declared) <= MAX_MANIFEST_BYTES:
        raise ValidationError(f"{MANIFEST_HEADER}: the manifest's length in bytes (1-{MAX_MANIFEST_BYTES}) is "
                              "required; the body is the manifest then the model.tar.gz")
    staging = registry.artifacts.root / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=staging, suffix=".promoted.tar.gz")
    archive = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            manifest, size = await _receive(request, out, int(declared), registry.artifacts.max_bytes)
        checked = importer.check(manifest)
        if size == 0:
            done = await run_in_threadpool(importer.existing, checked)
            if done is None:
                raise ResourceNotFound(f"No copy of {checked['SourceModelPackage']['ModelPackageArn']} from "
                                       f"{checked['SourceUrl']} is here yet: send its model.tar.gz after the manifest")
            return done  # type: ignore[no-any-return]
        who = from_header(request.headers.get(CALLER_HEADER))

        def promote_in() -> Doc:
            with acting_as(who):
                return importer.promote_in(checked, archive)  # type: ignore[no-any-return]

        return await run_in_threadpool(promote_in)
    finally:
        archive.unlink(missing_ok=True)


async def _receive(request: Request, out: BinaryIO, manifest_bytes: int, max_bytes: int) -> tuple[Any, int]:
    """The manifest, parsed, and the artifact's size in bytes (written to ``out``; 0 when the body held only
    the manifest)."""
    head = bytearray()
    size = 0
    async for chunk in request.stream():
        if len(head) < manifest_bytes:
            take = manifest_bytes - len(head)
            head += chunk[:take]
            chunk = chunk[take:]
        size += len(chunk)
        if size > max_bytes:
            raise ValidationError(f"The promoted artifact is more than {max_bytes} bytes "
                                  "(GREENFLEET_ARTIFACT_MAX_BYTES)")
        if chunk:
            await run_in_threadpool(out.write, chunk)
    if len(head) < manifest_bytes:
        raise ValidationError(f"The body ended inside the manifest ({len(head)} of {manifest_bytes} bytes)")
    return jsonbody.parse(bytes(head)), size
