"""Page fragment: Application Auto Scaling on one endpoint's page: the scalable targets of its variants,
their scaling policies and their recent scaling activities (DescribeScalingActivities, newest first)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from greenfleet.dashboard.access import GuardedRoute, endpoint_service, scaling_service
from greenfleet.dashboard.render import fragment
from greenfleet.scaling.service import ScalingService

__all__ = ["router", "scaling_view"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
Doc = dict[str, Any]
NAMESPACE = "sagemaker"
ACTIVITIES_SHOWN = 20


def scaling_view(service: ScalingService | None, endpoint: Doc) -> Doc | None:
    """None on a server without Application Auto Scaling; else the targets, policies and activities of the
    endpoint's variants (activities of all its variants merged, newest first)."""
    if service is None:
        return None
    resources = [f"endpoint/{endpoint['EndpointName']}/variant/{v['VariantName']}"
                 for v in endpoint.get("ProductionVariants") or []]
    if not resources:
        return {"Targets": [], "Policies": [], "Activities": []}
    targets = service.describe_scalable_targets({"ServiceNamespace": NAMESPACE, "ResourceIds": resources})
    policies: list[Doc] = []
    activities: list[Doc] = []
    for target in targets["ScalableTargets"]:
        key = {"ServiceNamespace": NAMESPACE, "ResourceId": target["ResourceId"]}
        policies += service.describe_scaling_policies(key)["ScalingPolicies"]
        activities += service.describe_scaling_activities(
            {**key, "MaxResults": ACTIVITIES_SHOWN, "IncludeNotScaledActivities": True})["ScalingActivities"]
    activities.sort(key=lambda a: a["StartTime"], reverse=True)
    return {"Targets": targets["ScalableTargets"], "Policies": policies, "Activities": activities[:ACTIVITIES_SHOWN]}


@router.get("/ui/endpoints/{name}/fragments/scaling")
def endpoint_scaling(request: Request, name: str) -> Response:
    described = endpoint_service(request).describe_endpoint({"EndpointName": name})
    return fragment("endpoint_scaling.html", scaling=scaling_view(scaling_service(request), described))
