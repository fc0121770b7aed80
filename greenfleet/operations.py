"""Every operation greenfleet offers, declared once.

An operation has a CamelCase name (SageMaker's or CloudWatch's wire name where it has one, else
greenfleet's own), its native REST route(s) under ``/api``, the ``greenfleet.Client`` method that calls
it, and the CLI command(s) that call that method. The REST routes are registered from this table
(``greenfleet.api.routing.route``), SageMaker's JSON protocol on ``POST /`` dispatches through it
(``sagemaker_targets``), the OpenAPI document takes each operation's request and response schemas from
botocore's model of the wire operation (``greenfleet.api.openapi``), and ``tests/test_operations.py``
checks that every operation has its route, its client method and its CLI command, and that the wire
protocols serve exactly the operations declared here.

This module is plain data: the CLI and the client import nothing from the server through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["OPERATIONS", "Operation", "Route", "Wire", "autoscaling_targets", "by_name", "sagemaker_targets"]

Wire = Literal["sagemaker", "sagemaker-runtime", "cloudwatch", "application-autoscaling"]
"""botocore's name of the service whose protocol carries the operation."""


@dataclass(frozen=True, slots=True)
class Route:
    """One native route of an operation; ``status`` is its success status."""

    method: str
    path: str
    status: int = 200


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation: ``wire`` is None for greenfleet's own; ``service`` names the ``Services`` attribute
    and method that SageMaker's protocol calls (``"models.create_model"``); ``request``/``response`` name a
    botocore shape (``"cloudwatch:MetricAlarm"``) or greenfleet's own (``"greenfleet:Deployment"``) when the
    native route's body or answer is not the wire operation's input or output."""

    name: str
    routes: tuple[Route, ...]
    client: str
    cli: tuple[str, ...]
    wire: Wire | None = None
    service: str | None = None
    summary: str = ""
    request: str | None = None
    response: str | None = None

    @property
    def route(self) -> Route:
        return self.routes[0]


def _op(name: str, method: str, path: str, client: str, *cli: str, status: int = 200, wire: Wire | None = None,
        service: str | None = None, summary: str = "", request: str | None = None, response: str | None = None,
        also: tuple[Route, ...] = ()) -> Operation:
    return Operation(name, (Route(method, path, status), *also), client, cli, wire, service, summary, request,
                     response)


def _sagemaker(name: str, method: str, path: str, client: str, cli: str, service: str, status: int = 200,
               summary: str = "") -> Operation:
    return _op(name, method, path, client, cli, status=status, wire="sagemaker", service=service, summary=summary)


def _cloudwatch(name: str, method: str, path: str, client: str, *cli: str, summary: str = "",
                request: str | None = None, response: str | None = None, also: tuple[Route, ...] = ()) -> Operation:
    return _op(name, method, path, client, *cli, wire="cloudwatch", summary=summary, request=request,
               response=response, also=also)


def _autoscaling(name: str, method: str, path: str, client: str, cli: str, service: str,
                 summary: str = "") -> Operation:
    return _op(name, method, path, client, cli, wire="application-autoscaling", service=service, summary=summary)


_DEPLOYMENT_COMMANDS = tuple(f"deployment {c}" for c in ("abort", "pause", "resume", "approve", "promote"))

OPERATIONS: tuple[Operation, ...] = (
    # -- SageMaker: models, endpoint configurations, endpoints, tags ------------------------------------
    _sagemaker("CreateModel", "POST", "/api/models", "create_model", "model create", "models.create_model", 201),
    _sagemaker("DescribeModel", "GET", "/api/models/{name}", "describe_model", "model describe",
               "models.describe_model"),
    _sagemaker("ListModels", "GET", "/api/models", "list_models", "model list", "models.list_models"),
    _sagemaker("DeleteModel", "DELETE", "/api/models/{name}", "delete_model", "model delete", "models.delete_model"),
    _sagemaker("CreateEndpointConfig", "POST", "/api/endpoint-configs", "create_endpoint_config", "config create",
               "models.create_endpoint_config", 201),
    _sagemaker("DescribeEndpointConfig", "GET", "/api/endpoint-configs/{name}", "describe_endpoint_config",
               "config describe", "models.describe_endpoint_config"),
    _sagemaker("ListEndpointConfigs", "GET", "/api/endpoint-configs", "list_endpoint_configs", "config list",
               "models.list_endpoint_configs"),
    _sagemaker("DeleteEndpointConfig", "DELETE", "/api/endpoint-configs/{name}", "delete_endpoint_config",
               "config delete", "models.delete_endpoint_config"),
    _sagemaker("CreateEndpoint", "POST", "/api/endpoints", "create_endpoint", "endpoint create",
               "endpoints.create_endpoint", 201),
    _sagemaker("DescribeEndpoint", "GET", "/api/endpoints/{name}", "describe_endpoint", "endpoint describe",
               "endpoints.describe_endpoint"),
    _sagemaker("ListEndpoints", "GET", "/api/endpoints", "list_endpoints", "endpoint list",
               "endpoints.list_endpoints"),
    _sagemaker("DeleteEndpoint", "DELETE", "/api/endpoints/{name}", "delete_endpoint", "endpoint delete",
               "endpoints.delete_endpoint"),
    _sagemaker("UpdateEndpoint", "POST", "/api/endpoints/{name}/update", "update_endpoint", "endpoint update",
               "deployments.update_endpoint", summary="UpdateEndpoint (blue/green or rolling, with auto-rollback)"),
    _sagemaker("UpdateEndpointWeightsAndCapacities", "POST", "/api/endpoints/{name}/weights-and-capacities",
               "update_endpoint_weights_and_capacities", "endpoint set-weights",
               "endpoints.update_weights_and_capacities"),
    _sagemaker("AddTags", "POST", "/api/tags", "add_tags", "tag add", "tags.add_tags"),
    _sagemaker("ListTags", "GET", "/api/tags", "list_tags", "tag list", "tags.list_tags"),
    _sagemaker("DeleteTags", "POST", "/api/tags/delete", "delete_tags", "tag delete", "tags.delete_tags"),
    # -- SageMaker: the model registry (greenfleet.registry) ---------------------------------------------
    _sagemaker("CreateModelPackageGroup", "POST", "/api/model-package-groups", "create_model_package_group",
               "registry group create", "registry.create_model_package_group", 201),
    _sagemaker("ListModelPackageGroups", "GET", "/api/model-package-groups", "list_model_package_groups",
               "registry group list", "registry.list_model_package_groups"),
    _sagemaker("DescribeModelPackageGroup", "GET", "/api/model-package-groups/{name}",
               "describe_model_package_group", "registry group describe", "registry.describe_model_package_group"),
    _sagemaker("DeleteModelPackageGroup", "DELETE", "/api/model-package-groups/{name}", "delete_model_package_group",
               "registry group delete", "registry.delete_model_package_group"),
    _sagemaker("CreateModelPackage", "POST", "/api/model-packages", "create_model_package", "registry register",
               "registry.create_model_package", 201),
    _sagemaker("ListModelPackages", "GET", "/api/model-packages", "list_model_packages", "registry list",
               "registry.list_model_packages"),
    _sagemaker("DescribeModelPackage", "GET", "/api/model-packages/{group}/{version}", "describe_model_package",
               "registry describe", "registry.describe_model_package"),
    _op("UpdateModelPackage", "POST", "/api/model-packages/{group}/{version}", "update_model_package",
        "registry approve", "registry reject", wire="sagemaker", service="registry.update_model_package"),
    _sagemaker("DeleteModelPackage", "DELETE", "/api/model-packages/{group}/{version}", "delete_model_package",
               "registry delete", "registry.delete_model_package"),
    _op("ListModelPackageEvidence", "GET", "/api/model-packages/{group}/{version}/evidence",
        "list_model_package_evidence", "registry evidence list",
        summary="A version's evidence (check results) and the checks this server requires before approval",
        response="greenfleet:EvidenceList"),
    _op("PutModelPackageEvidence", "POST", "/api/model-packages/{group}/{version}/evidence",
        "put_model_package_evidence", "registry evidence add", status=201,
        summary="Record one check result (integration, load, ...) on a version, in the audit trail",
        request="greenfleet:EvidenceInput", response="greenfleet:Evidence"),
    _op("GetModelPackageArtifact", "GET", "/api/model-packages/{group}/{version}/artifact",
        "get_model_package_artifact", "promote",
        summary="The version's kept model.tar.gz (application/gzip; X-Greenfleet-Artifact-Sha256: its digest)",
        response="greenfleet:ModelPackageArtifact"),
    _op("ImportModelPackage", "POST", "/api/model-packages/import", "import_model_package", "promote",
        summary="Receive a version promoted from another greenfleet server: a manifest "
                "(X-Greenfleet-Manifest-Bytes of JSON) then its model.tar.gz, in one body",
        response="greenfleet:Promotion"),
    _op("ModelPackageHistory", "GET", "/api/model-package-groups/{name}/history", "model_package_history",
        "registry history", summary="Audit trail of a group (or one version)", response="greenfleet:RegistryHistory"),
    _op("Champion", "GET", "/api/model-package-groups/{name}/champion", "champion", "registry champion",
        summary="The champion alias: the version live per bound endpoint", response="greenfleet:Champion"),
    _op("ServedAt", "GET", "/api/registry/served", "served_at", "registry served",
        summary="Which version served an endpoint at a time, and who approved it", response="greenfleet:ServedAt"),
    _op("CreateRegistryBinding", "POST", "/api/registry-bindings", "create_registry_binding", "registry bind",
        status=201, summary="Bind a model package group to an endpoint", request="greenfleet:RegistryBindingInput",
        response="greenfleet:RegistryBinding"),
    _op("ListRegistryBindings", "GET", "/api/registry-bindings", "list_registry_bindings", "registry bindings",
        summary="List deployment bindings", response="greenfleet:RegistryBindingList"),
    _op("DescribeRegistryBinding", "GET", "/api/registry-bindings/{endpoint}", "describe_registry_binding",
        "registry binding", summary="Describe a deployment binding", response="greenfleet:RegistryBinding"),
    _op("DeleteRegistryBinding", "DELETE", "/api/registry-bindings/{endpoint}", "delete_registry_binding",
        "registry unbind", summary="Unbind an endpoint", response="greenfleet:Empty"),
    # -- SageMaker: inference experiments (shadow tests; greenfleet.experiments) ---------------------------
    _sagemaker("CreateInferenceExperiment", "POST", "/api/inference-experiments", "create_inference_experiment",
               "experiment create", "experiments.create_inference_experiment", 201),
    _sagemaker("ListInferenceExperiments", "GET", "/api/inference-experiments", "list_inference_experiments",
               "experiment list", "experiments.list_inference_experiments"),
    _sagemaker("DescribeInferenceExperiment", "GET", "/api/inference-experiments/{name}",
               "describe_inference_experiment", "experiment describe", "experiments.describe_inference_experiment"),
    _sagemaker("UpdateInferenceExperiment", "POST", "/api/inference-experiments/{name}",
               "update_inference_experiment", "experiment update", "experiments.update_inference_experiment"),
    _sagemaker("StartInferenceExperiment", "POST", "/api/inference-experiments/{name}/start",
               "start_inference_experiment", "experiment start", "experiments.start_inference_experiment"),
    _sagemaker("StopInferenceExperiment", "POST", "/api/inference-experiments/{name}/stop",
               "stop_inference_experiment", "experiment stop", "experiments.stop_inference_experiment"),
    _sagemaker("DeleteInferenceExperiment", "DELETE", "/api/inference-experiments/{name}",
               "delete_inference_experiment", "experiment delete", "experiments.delete_inference_experiment"),
    _op("InferenceExperimentReport", "GET", "/api/inference-experiments/{name}/report",
        "inference_experiment_report", "experiment report",
        summary="A shadow test's paired comparison of production and shadow, live",
        response="greenfleet:ExperimentReport"),
    # -- greenfleet's feedback API and A/B tests (greenfleet.feedback) ----------------------------------------
    _op("PutFeedback", "POST", "/api/endpoints/{name}/feedback", "put_feedback", "feedback put",
        summary="Record outcomes (rewards or labels) by inference id", request="greenfleet:PutFeedback",
        response="greenfleet:FeedbackAnswer"),
    _op("CreateAbTest", "POST", "/api/ab-tests", "create_ab_test", "abtest create", status=201,
        summary="Start an A/B test between two variants of an endpoint", request="greenfleet:AbTestInput",
        response="greenfleet:AbTestCreated"),
    _op("ListAbTests", "GET", "/api/ab-tests", "list_ab_tests", "abtest list", summary="A/B tests, newest first",
        response="greenfleet:AbTestList"),
    _op("DescribeAbTest", "GET", "/api/ab-tests/{name}", "describe_ab_test", "abtest describe",
        summary="An A/B test's live status and decision", response="greenfleet:AbTest"),
    _op("DeleteAbTest", "DELETE", "/api/ab-tests/{name}", "delete_ab_test", "abtest delete",
        summary="End an A/B test (its outcomes stay until the retention)", response="greenfleet:Empty"),
    # -- SageMaker: Model Monitor (greenfleet.monitoring) ------------------------------------------------
    _sagemaker("CreateMonitoringSchedule", "POST", "/api/monitoring/schedules", "create_monitoring_schedule",
               "monitor schedule", "monitoring.create_monitoring_schedule", 201),
    _sagemaker("ListMonitoringSchedules", "GET", "/api/monitoring/schedules", "list_monitoring_schedules",
               "monitor list", "monitoring.list_monitoring_schedules"),
    _sagemaker("DescribeMonitoringSchedule", "GET", "/api/monitoring/schedules/{name}", "describe_monitoring_schedule",
               "monitor describe", "monitoring.describe_monitoring_schedule"),
    _sagemaker("UpdateMonitoringSchedule", "POST", "/api/monitoring/schedules/{name}", "update_monitoring_schedule",
               "monitor update", "monitoring.update_monitoring_schedule"),
    _sagemaker("StartMonitoringSchedule", "POST", "/api/monitoring/schedules/{name}/start",
               "start_monitoring_schedule", "monitor start", "monitoring.start_monitoring_schedule"),
    _sagemaker("StopMonitoringSchedule", "POST", "/api/monitoring/schedules/{name}/stop", "stop_monitoring_schedule",
               "monitor stop", "monitoring.stop_monitoring_schedule"),
    _sagemaker("DeleteMonitoringSchedule", "DELETE", "/api/monitoring/schedules/{name}", "delete_monitoring_schedule",
               "monitor delete", "monitoring.delete_monitoring_schedule"),
    _op("ListMonitoringExecutions", "GET", "/api/monitoring/executions", "list_monitoring_executions",
        "monitor executions", wire="sagemaker", service="monitoring.list_monitoring_executions",
        also=(Route("GET", "/api/monitoring/schedules/{name}/executions"),)),
    _sagemaker("CreateDataQualityJobDefinition", "POST", "/api/monitoring/data-quality-job-definitions",
               "create_data_quality_job_definition", "monitor data-quality create",
               "monitoring_jobs.create_data_quality_job_definition", 201),
    _sagemaker("ListDataQualityJobDefinitions", "GET", "/api/monitoring/data-quality-job-definitions",
               "list_data_quality_job_definitions", "monitor data-quality list",
               "monitoring_jobs.list_data_quality_job_definitions"),
    _sagemaker("DescribeDataQualityJobDefinition", "GET", "/api/monitoring/data-quality-job-definitions/{name}",
               "describe_data_quality_job_definition", "monitor data-quality describe",
               "monitoring_jobs.describe_data_quality_job_definition"),
    _sagemaker("DeleteDataQualityJobDefinition", "DELETE", "/api/monitoring/data-quality-job-definitions/{name}",
               "delete_data_quality_job_definition", "monitor data-quality delete",
               "monitoring_jobs.delete_data_quality_job_definition"),
    _sagemaker("CreateModelQualityJobDefinition", "POST", "/api/monitoring/model-quality-job-definitions",
               "create_model_quality_job_definition", "monitor model-quality create",
               "monitoring_jobs.create_model_quality_job_definition", 201),
    _sagemaker("ListModelQualityJobDefinitions", "GET", "/api/monitoring/model-quality-job-definitions",
               "list_model_quality_job_definitions", "monitor model-quality list",
               "monitoring_jobs.list_model_quality_job_definitions"),
    _sagemaker("DescribeModelQualityJobDefinition", "GET", "/api/monitoring/model-quality-job-definitions/{name}",
               "describe_model_quality_job_definition", "monitor model-quality describe",
               "monitoring_jobs.describe_model_quality_job_definition"),
    _sagemaker("DeleteModelQualityJobDefinition", "DELETE", "/api/monitoring/model-quality-job-definitions/{name}",
               "delete_model_quality_job_definition", "monitor model-quality delete",
               "monitoring_jobs.delete_model_quality_job_definition"),
    _op("SuggestBaseline", "POST", "/api/monitoring/baselines", "suggest_baseline", "monitor baseline",
        summary="Baseline a dataset into statistics.json and constraints.json (SageMaker: a processing job)",
        request="greenfleet:BaselineInput", response="greenfleet:Baseline"),
    _op("MonitoringReport", "GET", "/api/monitoring/schedules/{name}/report", "monitoring_report", "monitor report",
        summary="The per-feature report of a schedule's latest execution (baseline vs current, distance, violations)",
        response="greenfleet:MonitoringReport"),
    # -- Application Auto Scaling (greenfleet.scaling): SageMaker variants' DesiredInstanceCount ------------
    _autoscaling("RegisterScalableTarget", "POST", "/api/scalable-targets", "register_scalable_target",
                 "scaling target register", "scaling.register_scalable_target"),
    _autoscaling("DescribeScalableTargets", "GET", "/api/scalable-targets", "describe_scalable_targets",
                 "scaling target list", "scaling.describe_scalable_targets"),
    _autoscaling("DeregisterScalableTarget", "POST", "/api/scalable-targets/deregister", "deregister_scalable_target",
                 "scaling target deregister", "scaling.deregister_scalable_target"),
    _autoscaling("PutScalingPolicy", "POST", "/api/scaling-policies", "put_scaling_policy", "scaling policy put",
                 "scaling.put_scaling_policy", summary="PutScalingPolicy (create or replace)"),
    _autoscaling("DescribeScalingPolicies", "GET", "/api/scaling-policies", "describe_scaling_policies",
                 "scaling policy list", "scaling.describe_scaling_policies"),
    _autoscaling("DeleteScalingPolicy", "POST", "/api/scaling-policies/delete", "delete_scaling_policy",
                 "scaling policy delete", "scaling.delete_scaling_policy"),
    _autoscaling("DescribeScalingActivities", "GET", "/api/scaling-activities", "describe_scaling_activities",
                 "scaling activities", "scaling.describe_scaling_activities"),
    # -- SageMaker Runtime: served in front of the REST application (greenfleet.api.gateway): InvokeEndpoint by
    # the data plane (greenfleet.router), InvokeEndpointAsync by greenfleet.asyncinference.front ----------------
    _op("InvokeEndpoint", "POST", "/endpoints/{name}/invocations", "invoke_endpoint", "invoke",
        wire="sagemaker-runtime"),
    _op("InvokeEndpointAsync", "POST", "/endpoints/{name}/async-invocations", "invoke_endpoint_async",
        "invoke-async", status=202, wire="sagemaker-runtime",
        summary="InvokeEndpointAsync: queue a request for an asynchronous endpoint"),
    # -- CloudWatch: alarms and metrics ---------------------------------------------------------------------
    _cloudwatch("PutMetricAlarm", "PUT", "/api/alarms/{name}", "put_metric_alarm", "alarm put",
                summary="PutMetricAlarm (create or replace)", response="cloudwatch:MetricAlarm"),
    _cloudwatch("DescribeAlarms", "GET", "/api/alarms", "describe_alarms", "alarm describe"),
    _cloudwatch("DescribeAlarmsForMetric", "POST", "/api/alarms-for-metric", "describe_alarms_for_metric",
                "alarm for-metric"),
    _cloudwatch("DeleteAlarms", "DELETE", "/api/alarms/{name}", "delete_alarms", "alarm delete"),
    _cloudwatch("SetAlarmState", "POST", "/api/alarms/{name}/state", "set_alarm_state", "alarm set-state"),
    _cloudwatch("DescribeAlarmHistory", "GET", "/api/alarms/{name}/history", "describe_alarm_history",
                "alarm history", summary="DescribeAlarmHistory of one alarm",
                also=(Route("GET", "/api/alarm-history"),)),
    _cloudwatch("EnableAlarmActions", "POST", "/api/alarms/{name}/enable-actions", "enable_alarm_actions",
                "alarm enable-actions"),
    _cloudwatch("DisableAlarmActions", "POST", "/api/alarms/{name}/disable-actions", "disable_alarm_actions",
                "alarm disable-actions"),
    _cloudwatch("PutMetricData", "POST", "/api/metric-data", "put_metric_data", "metrics put"),
    _cloudwatch("GetMetricData", "POST", "/api/metric-data-queries", "get_metric_data", "metrics query",
                summary="GetMetricData (metric math included)"),
    _cloudwatch("GetMetricStatistics", "POST", "/api/metric-statistics", "get_metric_statistics", "metrics get",
                also=(Route("GET", "/api/metric-statistics"),)),
    _cloudwatch("ListMetrics", "GET", "/api/metric-series", "list_metrics", "metrics list"),
    # -- greenfleet's own ---------------------------------------------------------------------------------
    _op("DescribeAlarm", "GET", "/api/alarms/{name}", "describe_alarm", "alarm describe",
        summary="DescribeAlarms for one alarm", response="cloudwatch:MetricAlarm"),
    _op("ListInstances", "GET", "/api/endpoints/{name}/instances", "list_instances", "endpoint instances",
        summary="The instance processes of an endpoint", response="greenfleet:InstanceList"),
    _op("ListDeployments", "GET", "/api/endpoints/{name}/deployments", "list_deployments", "deployment list",
        summary="Past and current deployments of an endpoint", response="greenfleet:DeploymentList"),
    _op("DescribeDeployment", "GET", "/api/endpoints/{name}/deployments/{deployment_id}", "describe_deployment",
        "deployment describe", summary="One deployment (or the newest: 'latest'), with its timeline",
        response="greenfleet:Deployment"),
    _op("CommandDeployment", "POST", "/api/endpoints/{name}/deployment/{command}", "command_deployment",
        *_DEPLOYMENT_COMMANDS, status=202,
        summary="Command the running deployment: abort, pause, resume, approve or promote",
        request="greenfleet:DeploymentCommand", response="greenfleet:DeploymentCommandAnswer"),
    _op("ListEvents", "GET", "/api/events", "list_events", "events",
        summary="Read the event log (oldest first; order=desc for newest first)", response="greenfleet:EventList"),
    _op("GetEvent", "GET", "/api/events/{event_id}", "get_event", "event get", summary="One event",
        response="greenfleet:Event"),
    _op("PutEvent", "POST", "/api/events", "put_event", "event put", status=201,
        summary="Append an event to the log", request="greenfleet:PutEvent", response="greenfleet:Event"),
    _op("ListEventTargets", "GET", "/api/event-targets", "list_event_targets", "webhook list",
        summary="List the webhook targets of the event log", response="greenfleet:EventTargetList"),
    _op("CreateEventTarget", "POST", "/api/event-targets", "create_event_target", "webhook create", status=201,
        summary="Register a webhook target", request="greenfleet:EventTargetInput",
        response="greenfleet:EventTarget"),
    _op("DescribeEventTarget", "GET", "/api/event-targets/{target_id}", "describe_event_target",
        "webhook describe", summary="One webhook target", response="greenfleet:EventTarget"),
    _op("UpdateEventTarget", "PATCH", "/api/event-targets/{target_id}", "update_event_target", "webhook update",
        summary="Change a webhook target", request="greenfleet:EventTargetChange",
        response="greenfleet:EventTarget"),
    _op("DeleteEventTarget", "DELETE", "/api/event-targets/{target_id}", "delete_event_target", "webhook delete",
        summary="Remove a webhook target", response="greenfleet:Empty"),
    _op("ListDeliveries", "GET", "/api/deliveries", "list_deliveries", "webhook deliveries",
        summary="Webhook deliveries (events and alarm actions), newest first", response="greenfleet:DeliveryList"),
)

_BY_NAME = {op.name: op for op in OPERATIONS}


def by_name(name: str) -> Operation:
    return _BY_NAME[name]


def sagemaker_targets() -> dict[str, tuple[str, str]]:
    """SageMaker's JSON-protocol operations: wire name → (``Services`` attribute, method)."""
    return _targets("sagemaker")


def autoscaling_targets() -> dict[str, tuple[str, str]]:
    """Application Auto Scaling's JSON-protocol operations: wire name → (``Services`` attribute, method)."""
    return _targets("application-autoscaling")


def _targets(wire: Wire) -> dict[str, tuple[str, str]]:
    targets: dict[str, tuple[str, str]] = {}
    for op in OPERATIONS:
        if op.wire == wire and op.service is not None:
            attribute, _, method = op.service.partition(".")
            targets[op.name] = (attribute, method)
    return targets
