"""Page: one deployment's live timeline (stages, traffic shares, bakes, alarms, judge verdicts, checks)
and the operator's commands, each with a reason (the same service as POST /api/.../deployment/{command})."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response

from greenfleet.dashboard.access import GuardedRoute, alarm_service, deployment_service
from greenfleet.dashboard.render import fragment, page
from greenfleet.errors import ValidationError

__all__ = ["COMMANDS", "deployment_view", "router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
COMMANDS = ("pause", "resume", "approve", "promote", "abort")
Doc = dict[str, Any]


def _shares(view: Doc) -> list[Doc]:
    """Each fleet's share of the traffic, in percent, from its variants' current and desired weights."""
    fleets = [(view["EndpointConfigName"], view.get("ProductionVariants", []))]
    pending = view.get("PendingDeploymentSummary")
    if pending:
        fleets.append((pending["EndpointConfigName"], pending.get("ProductionVariants", [])))
    out = []
    for config, variants in fleets:
        desired = sum(float(v.get("DesiredWeight") or 0) for v in variants)
        current = sum(float(v.get("CurrentWeight") or 0) for v in variants)
        out.append({"Config": config, "Percent": round(100 * current / desired) if desired else 0,
                    "Variants": variants})
    return out


def deployment_view(request: Request, name: str, deployment_id: str | None) -> Doc:
    """describe_deployment's answer, with the traffic shares and its rollback alarms' current states."""
    described = deployment_service(request).describe_deployment(name, deployment_id)
    config = described["View"].get("LastDeploymentConfig") or {}
    alarm_names = [a["AlarmName"] for a in (config.get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
    found = {a["AlarmName"]: a for a in alarm_service(request).describe_alarms(alarm_names)} if alarm_names else {}
    alarms = [found.get(n, {"AlarmName": n, "StateValue": "MISSING", "StateReason": "no such alarm"})
              for n in alarm_names]
    active = described["Outcome"] is None and described["Phase"] not in ("SUCCEEDED", "ROLLED_BACK",
                                                                         "ROLLBACK_FAILED")
    return {**described, "Shares": _shares(described["View"]), "Alarms": alarms, "Active": active,
            "Timeline": list(reversed(described["Timeline"]))}


@router.get("/ui/endpoints/{name}/deployments/{deployment_id}")
def deployment(request: Request, name: str, deployment_id: str) -> Response:
    try:
        view = deployment_view(request, name, None if deployment_id == "latest" else deployment_id)
    except ValidationError as exc:
        return page(request, "missing.html", "Not found", "endpoints", status_code=404, message=exc.message)
    return page(request, "deployment.html", f"{name}: deployment {view['DeploymentId']}", "endpoints",
                name=name, deployment=view, commands=COMMANDS)


@router.get("/ui/endpoints/{name}/deployments/{deployment_id}/fragments/live")
def deployment_live(request: Request, name: str, deployment_id: str) -> Response:
    return fragment("deployment_live.html", name=name, deployment=deployment_view(request, name, deployment_id))


@router.post("/ui/endpoints/{name}/deployment/{command}", status_code=202)
def command(request: Request, name: str, command: str, body: Doc = Body(default={})) -> Doc:
    reason = str(body.get("Reason") or "").strip()
    if command not in COMMANDS:
        raise ValidationError(f"Unknown command '{command}'; one of {', '.join(COMMANDS)}")
    if not reason:
        raise ValidationError("Give a reason for the command; it is recorded on the deployment's timeline.")
    return deployment_service(request).command(
        name, command, by="dashboard", reason=reason, command_id=body.get("CommandId"))
