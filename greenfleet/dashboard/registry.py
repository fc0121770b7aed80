"""Pages: the model registry's groups, a group's versions, bindings and audit trail, one version (lineage,
metrics against the champion's, deployments) and approving or rejecting a version with a reason (the same
service as ``greenfleet registry approve|reject``; a binding of the group then deploys or withdraws it
through its guardrail)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response

from greenfleet.dashboard.access import GuardedRoute, registry_faces
from greenfleet.dashboard.registry_view import DECISIONS, group_rows, group_view, version_view
from greenfleet.dashboard.render import fragment, page
from greenfleet.errors import ValidationError
from greenfleet.registry.caller import acting_as

__all__ = ["BY", "router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
Doc = dict[str, Any]
BY = "dashboard"
"""Who the audit trail says decided (the dashboard's sessions carry no person's name)."""


def _missing(request: Request, exc: ValidationError) -> Response:
    return page(request, "missing.html", "Not found", "registry", status_code=404, message=exc.message)


@router.get("/ui/registry")
def groups(request: Request) -> Response:
    return page(request, "registry.html", "Model registry", "registry", groups=group_rows(registry_faces(request)))


@router.get("/ui/fragments/registry")
def group_table(request: Request) -> Response:
    return fragment("registry_groups.html", groups=group_rows(registry_faces(request)))


@router.get("/ui/registry/{group}")
def group(request: Request, group: str) -> Response:
    try:
        view = group_view(registry_faces(request), group)
    except ValidationError as exc:
        return _missing(request, exc)
    return page(request, "registry_group.html", f"{group}: model package group", "registry", view=view,
                decisions=DECISIONS)


@router.get("/ui/registry/{group}/fragments/live")
def group_live(request: Request, group: str) -> Response:
    return fragment("registry_group_live.html", view=group_view(registry_faces(request), group), decisions=DECISIONS)


@router.get("/ui/registry/{group}/{version}")
def version(request: Request, group: str, version: int) -> Response:
    try:
        view = version_view(registry_faces(request), group, version)
    except ValidationError as exc:
        return _missing(request, exc)
    return page(request, "registry_version.html", f"{group}/{version}: model package", "registry", view=view,
                decisions=DECISIONS)


@router.get("/ui/registry/{group}/{version}/fragments/live")
def version_live(request: Request, group: str, version: int) -> Response:
    return fragment("registry_version_live.html", view=version_view(registry_faces(request), group, version),
                    decisions=DECISIONS)


@router.post("/ui/registry/{group}/{version}/decision")
def decide(request: Request, group: str, version: int, body: Doc = Body(default={})) -> Doc:
    """Approve or reject a version, with a reason (its ApprovalDescription, kept in the audit trail)."""
    status = body.get("Status")
    reason = str(body.get("Reason") or "").strip()
    if status not in DECISIONS:
        raise ValidationError(f"Status must be one of {', '.join(DECISIONS)}, got {status!r}")
    if not reason:
        raise ValidationError("Give a reason for the decision; it is kept in the version's audit trail.")
    faces = registry_faces(request)
    row = faces.packages.package(f"{group}/{version}")
    with acting_as(BY):
        faces.packages.update_model_package({"ModelPackageArn": row["arn"], "ModelApprovalStatus": status,
                                             "ApprovalDescription": reason})
    bound = [b["EndpointName"] for b in faces.bindings.list_bindings(row["group_name"])["Bindings"]]
    return {"ModelPackageArn": row["arn"], "ModelApprovalStatus": status, "BoundEndpoints": bound}
