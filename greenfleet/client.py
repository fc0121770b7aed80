"""A synchronous Python client of greenfleet's native REST API and of InvokeEndpoint.

Methods are SageMaker's and CloudWatch's operations in snake_case (``greenfleet.operations`` lists
them with their routes and CLI commands); they take the operation's members as CamelCase keyword
arguments and return its response shape, so code written against boto3's ``sagemaker``,
``sagemaker-runtime`` and ``cloudwatch`` clients reads the same. greenfleet's own operations
(deployments, events, instances, webhook targets) follow the same convention::

    client = Client("http://127.0.0.1:8080")
    client.create_model(ModelName="m", PrimaryContainer={"Image": "greenfleet/sklearn"})
    client.describe_model(ModelName="m")["CreationTime"]
    client.invoke_endpoint(EndpointName="e", Body=b"1,2", ContentType="text/csv")["Body"].read()

Errors::

    ClientError
     ├── ApiError            the server answered with an error: status, code, message (e.g. ValidationException)
     ├── ServerUnreachable   no answer from the base URL (connection refused, timeout)
     └── WaiterError         wait_for_*: the endpoint Failed, or the wait timed out
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, NotRequired, Self, TypedDict
from urllib.parse import quote

from greenfleet.clienterrors import ApiError, ClientError, ServerUnreachable, WaiterError
from greenfleet.clientexperiments import ExperimentCalls
from greenfleet.clientmonitoring import MonitoringMethods
from greenfleet.clientpromotion import PromotionCalls
from greenfleet.waiters import EndpointWaiters

if TYPE_CHECKING:  # httpx is imported when a client is made, so that ``greenfleet --help`` starts fast
    import httpx

__all__ = ["ApiError", "Client", "ClientError", "InvokeEndpointOutput", "ResponseMetadata", "ServerUnreachable",
           "WaiterError"]

Doc = dict[str, Any]
DEFAULT_URL = "http://127.0.0.1:8080"


class ResponseMetadata(TypedDict):
    HTTPStatusCode: int
    HTTPHeaders: dict[str, str]
    RequestId: NotRequired[str]


class InvokeEndpointOutput(TypedDict):
    """InvokeEndpoint's answer in boto3's shape: ``Body`` is a stream (``.read()``)."""

    Body: io.BytesIO
    ContentType: str
    InvokedProductionVariant: NotRequired[str]
    CustomAttributes: NotRequired[str]
    ResponseMetadata: ResponseMetadata


class InvokeEndpointAsyncOutput(TypedDict):
    """InvokeEndpointAsync's answer in boto3's shape."""

    InferenceId: str
    OutputLocation: str
    FailureLocation: str
    ResponseMetadata: ResponseMetadata


def _path(name: str) -> str:
    return quote(name, safe="")


def _version_path(name: str) -> str:
    """A model package version (ARN or ``GROUP/N``) as the REST path ``GROUP/N``."""
    tail = name.split(":model-package/", 1)[-1]
    group, _, version = tail.rpartition("/")
    return f"{_path(group)}/{_path(version)}"


def _query_value(value: Any) -> str:
    if isinstance(value, datetime):
        return str(value.timestamp())
    return str(value)


def _json_doc(value: Any) -> Any:
    """``value`` with every datetime as epoch seconds, so that it can be sent as JSON."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _json_doc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_doc(v) for v in value]
    return value


def _error(response: httpx.Response) -> ApiError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    details: Doc = payload if isinstance(payload, dict) else {}
    header = response.headers.get("x-amzn-ErrorType", "")
    code = header.split(":", 1)[0] or str(details.get("code") or details.get("__type") or "")
    code = code.rsplit("#", 1)[-1] or f"HTTP{response.status_code}"
    message = details.get("message") or details.get("Message") or response.text or response.reason_phrase
    return ApiError(response.status_code, code, str(message), details)


class Client(EndpointWaiters, MonitoringMethods, ExperimentCalls, PromotionCalls):
    """greenfleet's REST API at ``base_url``; usable as a context manager."""

    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None, token: str | None = None) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else None  # GREENFLEET_API_TOKEN on the server
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport, headers=headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # --- transport ---------------------------------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach greenfleet at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _call(self, method: str, url: str, body: Doc | None = None, query: Doc | None = None) -> Doc:
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        response = self._send(method, url, json=body, params=params or None)
        result: Doc = response.json() if response.content else {}
        return result

    # --- models ------------------------------------------------------------------------------------
    def create_model(self, **params: Any) -> Doc:
        return self._call("POST", "/api/models", params)

    def describe_model(self, ModelName: str) -> Doc:
        return self._call("GET", f"/api/models/{_path(ModelName)}")

    def list_models(self, **params: Any) -> Doc:
        return self._call("GET", "/api/models", query=params)

    def delete_model(self, ModelName: str) -> Doc:
        return self._call("DELETE", f"/api/models/{_path(ModelName)}")

    # --- endpoint configurations -------------------------------------------------------------------
    def create_endpoint_config(self, **params: Any) -> Doc:
        return self._call("POST", "/api/endpoint-configs", params)

    def describe_endpoint_config(self, EndpointConfigName: str) -> Doc:
        return self._call("GET", f"/api/endpoint-configs/{_path(EndpointConfigName)}")

    def list_endpoint_configs(self, **params: Any) -> Doc:
        return self._call("GET", "/api/endpoint-configs", query=params)

    def delete_endpoint_config(self, EndpointConfigName: str) -> Doc:
        return self._call("DELETE", f"/api/endpoint-configs/{_path(EndpointConfigName)}")

    # --- endpoints ---------------------------------------------------------------------------------
    def create_endpoint(self, **params: Any) -> Doc:
        return self._call("POST", "/api/endpoints", params)

    def describe_endpoint(self, EndpointName: str) -> Doc:
        return self._call("GET", f"/api/endpoints/{_path(EndpointName)}")

    def list_endpoints(self, **params: Any) -> Doc:
        return self._call("GET", "/api/endpoints", query=params)

    def delete_endpoint(self, EndpointName: str) -> Doc:
        return self._call("DELETE", f"/api/endpoints/{_path(EndpointName)}")

    def update_endpoint_weights_and_capacities(self, EndpointName: str,
                                               DesiredWeightsAndCapacities: list[Doc]) -> Doc:
        return self._call("POST", f"/api/endpoints/{_path(EndpointName)}/weights-and-capacities",
                          {"DesiredWeightsAndCapacities": DesiredWeightsAndCapacities})

    # --- deployments (UpdateEndpoint and its history) ----------------------------------------------
    def update_endpoint(self, EndpointName: str, EndpointConfigName: str, DeploymentConfig: Doc | None = None,
                        RetainAllVariantProperties: bool | None = None,
                        ExcludeRetainedVariantProperties: list[Doc] | None = None,
                        RetainDeploymentConfig: bool | None = None, *, AllowMissingAlarms: bool | None = None) -> Doc:
        """UpdateEndpoint: start a blue/green or rolling deployment; returns ``{"EndpointArn": ...}`` at once.
        ``AllowMissingAlarms`` (greenfleet's own, keyword-only): deploy even if an AutoRollbackConfiguration alarm
        does not exist (yet)."""
        optional = {"DeploymentConfig": DeploymentConfig, "RetainAllVariantProperties": RetainAllVariantProperties,
                    "ExcludeRetainedVariantProperties": ExcludeRetainedVariantProperties,
                    "RetainDeploymentConfig": RetainDeploymentConfig}
        body: Doc = {"EndpointConfigName": EndpointConfigName, **{k: v for k, v in optional.items() if v is not None}}
        return self._call("POST", f"/api/endpoints/{_path(EndpointName)}/update", body,
                          {"AllowMissingAlarms": AllowMissingAlarms or None})

    def list_deployments(self, EndpointName: str) -> Doc:
        """``{"Deployments": [...]}``, newest first: id, strategy, from/to config, phase, outcome, times."""
        return self._call("GET", f"/api/endpoints/{_path(EndpointName)}/deployments")

    def describe_deployment(self, EndpointName: str, DeploymentId: str | None = None) -> Doc:
        """One deployment (the newest when ``DeploymentId`` is None) with its View and Timeline."""
        which = _path(DeploymentId) if DeploymentId is not None else "latest"
        return self._call("GET", f"/api/endpoints/{_path(EndpointName)}/deployments/{which}")

    def command_deployment(self, EndpointName: str, Command: str, Reason: str = "", By: str | None = None,
                           CommandId: str | None = None) -> Doc:
        """ABORT, PAUSE, RESUME, APPROVE or PROMOTE the running deployment (recorded with who and why)."""
        body = {"Reason": Reason, "By": By, "CommandId": CommandId}
        return self._call("POST", f"/api/endpoints/{_path(EndpointName)}/deployment/{_path(Command.lower())}",
                          {k: v for k, v in body.items() if v is not None})

    def list_instances(self, EndpointName: str) -> Doc:
        """``{"EndpointName", "Instances": [...]}``: the instance processes serving the endpoint."""
        return self._call("GET", f"/api/endpoints/{_path(EndpointName)}/instances")

    # --- alarms (CloudWatch's DescribeAlarms) ------------------------------------------------------
    def describe_alarms(self, AlarmNames: list[str] | None = None, AlarmNamePrefix: str | None = None,
                        StateValue: str | None = None) -> Doc:
        """``{"MetricAlarms": [...]}`` with each alarm's StateValue, StateReason and definition."""
        query: dict[str, Any] = {"name": AlarmNames, "prefix": AlarmNamePrefix, "state": StateValue}
        response = self._send("GET", "/api/alarms", params={k: v for k, v in query.items() if v is not None})
        result: Doc = response.json()
        return result

    def describe_alarms_for_metric(self, MetricName: str, Namespace: str, **params: Any) -> Doc:
        """DescribeAlarmsForMetric: ``{"MetricAlarms": [...]}`` of the alarms that read the metric; ``params``
        narrow it (Dimensions, Statistic or ExtendedStatistic, Period, Unit)."""
        return self._call("POST", "/api/alarms-for-metric",
                          _json_doc({"MetricName": MetricName, "Namespace": Namespace, **params}))

    def put_metric_alarm(self, AlarmName: str, **params: Any) -> Doc:
        """PutMetricAlarm: create ``AlarmName`` or replace its configuration (its state is kept); ``params`` are
        CloudWatch's members (MetricName, Namespace, Dimensions, Statistic or ExtendedStatistic, Period, or
        Metrics for metric math; EvaluationPeriods, Threshold, ComparisonOperator, ...). Returns the alarm."""
        return self._call("PUT", f"/api/alarms/{_path(AlarmName)}", _json_doc({"AlarmName": AlarmName, **params}))

    def describe_alarm(self, AlarmName: str) -> Doc:
        """One alarm, as an item of DescribeAlarms' MetricAlarms; ApiError (ResourceNotFound) if it does not exist."""
        return self._call("GET", f"/api/alarms/{_path(AlarmName)}")

    def delete_alarms(self, AlarmNames: list[str]) -> Doc:
        """DeleteAlarms, one alarm after the other: a missing alarm raises ApiError (ResourceNotFound) and
        stops there, the alarms before it being deleted."""
        for name in AlarmNames:
            self._call("DELETE", f"/api/alarms/{_path(name)}")
        return {}

    def describe_alarm_history(self, AlarmName: str | None = None, HistoryItemType: str | None = None,
                               StartDate: datetime | float | str | None = None,
                               EndDate: datetime | float | str | None = None, MaxRecords: int = 100,
                               ScanBy: str = "TimestampDescending") -> Doc:
        """``{"AlarmHistoryItems": [...]}`` of one alarm, or of every alarm when ``AlarmName`` is None;
        newest first unless ``ScanBy`` is TimestampAscending."""
        url = f"/api/alarms/{_path(AlarmName)}/history" if AlarmName is not None else "/api/alarm-history"
        order = "asc" if ScanBy == "TimestampAscending" else "desc"
        return self._call("GET", url, query={"type": HistoryItemType, "start": StartDate, "end": EndDate,
                                             "limit": MaxRecords, "order": order})

    def set_alarm_state(self, AlarmName: str, StateValue: str, StateReason: str,
                        StateReasonData: str | None = None) -> Doc:
        """SetAlarmState: the state lasts until the alarm's next evaluation period completes."""
        body: Doc = {"StateValue": StateValue, "StateReason": StateReason}
        if StateReasonData is not None:
            body["StateReasonData"] = StateReasonData
        return self._call("POST", f"/api/alarms/{_path(AlarmName)}/state", body)

    def enable_alarm_actions(self, AlarmNames: list[str]) -> Doc:
        for name in AlarmNames:
            self._call("POST", f"/api/alarms/{_path(name)}/enable-actions")
        return {}

    def disable_alarm_actions(self, AlarmNames: list[str]) -> Doc:
        for name in AlarmNames:
            self._call("POST", f"/api/alarms/{_path(name)}/disable-actions")
        return {}

    # --- metrics (CloudWatch's PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics) ---------
    def put_metric_data(self, Namespace: str, MetricData: list[Doc]) -> Doc:
        """PutMetricData; a datum's Timestamp may be a datetime, epoch seconds or ISO 8601 text."""
        return self._call("POST", "/api/metric-data", _json_doc({"Namespace": Namespace, "MetricData": MetricData}))

    def get_metric_statistics(self, **params: Any) -> Doc:
        """GetMetricStatistics: ``{"Label", "Datapoints": [...]}``; StartTime/EndTime may be datetimes."""
        return self._call("POST", "/api/metric-statistics", _json_doc(params))

    def get_metric_data(self, **params: Any) -> Doc:
        """GetMetricData (MetricDataQueries with MetricStat or Expression): ``{"MetricDataResults": [...]}``."""
        return self._call("POST", "/api/metric-data-queries", _json_doc(params))

    def list_metrics(self, Namespace: str | None = None, MetricName: str | None = None,
                     Dimensions: list[Doc] | None = None) -> Doc:
        """ListMetrics: ``{"Metrics": [...]}``; a dimension filter without Value matches any value."""
        dimensions = [f"{d['Name']}={d['Value']}" if d.get("Value") is not None else str(d["Name"])
                      for d in Dimensions or []]
        return self._get_listing("/api/metric-series", {"namespace": Namespace, "metric_name": MetricName,
                                                        "dimension": dimensions})

    # --- events and their webhook targets (greenfleet's own) ---------------------------------------------
    def list_events(self, Source: str | None = None, DetailType: str | None = None, Resource: str | None = None,
                    StartTime: datetime | float | str | None = None, EndTime: datetime | float | str | None = None,
                    After: int | None = None, MaxResults: int = 100, ScanBy: str = "TimestampAscending") -> Doc:
        """``{"Events": [...], "LastSeq": n}`` from the event log, oldest first (``ScanBy="TimestampDescending"``:
        newest first); ``After`` is a sequence number (``LastSeq`` of the previous call) to read only newer
        events."""
        order = "desc" if ScanBy == "TimestampDescending" else "asc"
        return self._call("GET", "/api/events", query={"source": Source, "detail_type": DetailType,
                                                       "resource": Resource, "since": StartTime, "until": EndTime,
                                                       "after": After, "limit": MaxResults, "order": order})

    def get_event(self, EventId: str) -> Doc:
        return self._call("GET", f"/api/events/{_path(EventId)}")

    def put_event(self, Source: str, DetailType: str, Detail: Doc, Resource: str | None = None) -> Doc:
        """Append an event to the log; returns it in EventBridge's envelope, as the log stores it."""
        body: Doc = {"Source": Source, "DetailType": DetailType, "Detail": Detail}
        if Resource is not None:
            body["Resource"] = Resource
        return self._call("POST", "/api/events", body)

    def list_event_targets(self) -> Doc:
        """``{"Targets": [...]}``: the webhooks events are pushed to."""
        return self._call("GET", "/api/event-targets")

    def create_event_target(self, Url: str, EventPattern: dict[str, list[str]] | None = None,
                            Description: str | None = None, Enabled: bool | None = None) -> Doc:
        """Register a webhook for the events ``EventPattern`` matches (every event when it is empty)."""
        body = {"Url": Url, "EventPattern": EventPattern, "Description": Description, "Enabled": Enabled}
        return self._call("POST", "/api/event-targets", {k: v for k, v in body.items() if v is not None})

    def describe_event_target(self, TargetId: str) -> Doc:
        return self._call("GET", f"/api/event-targets/{_path(TargetId)}")

    def update_event_target(self, TargetId: str, Url: str | None = None,
                            EventPattern: dict[str, list[str]] | None = None, Description: str | None = None,
                            Enabled: bool | None = None) -> Doc:
        """Change the members given; the others are kept."""
        body = {"Url": Url, "EventPattern": EventPattern, "Description": Description, "Enabled": Enabled}
        return self._call("PATCH", f"/api/event-targets/{_path(TargetId)}",
                          {k: v for k, v in body.items() if v is not None})

    def delete_event_target(self, TargetId: str) -> Doc:
        return self._call("DELETE", f"/api/event-targets/{_path(TargetId)}")

    def list_deliveries(self, Status: str | None = None, Kind: str | None = None, EventId: str | None = None,
                        TargetId: str | None = None, MaxResults: int = 100) -> Doc:
        """``{"Deliveries": [...]}``, newest first: each webhook delivery (events and alarm actions)."""
        return self._call("GET", "/api/deliveries", query={"status": Status, "kind": Kind, "event_id": EventId,
                                                           "target_id": TargetId, "limit": MaxResults})

    def _get_listing(self, url: str, query: Doc) -> Doc:
        """GET with repeatable query parameters (list values are sent as repeated parameters)."""
        params: dict[str, str | list[str]] = {}
        for key, value in query.items():
            if isinstance(value, list):
                if value:
                    params[key] = [_query_value(v) for v in value]
            elif value is not None:
                params[key] = _query_value(value)
        result: Doc = self._send("GET", url, params=params or None).json()
        return result

    # --- tags --------------------------------------------------------------------------------------
    def add_tags(self, ResourceArn: str, Tags: list[Doc]) -> Doc:
        return self._call("POST", "/api/tags", {"ResourceArn": ResourceArn, "Tags": Tags})

    def list_tags(self, ResourceArn: str, **params: Any) -> Doc:
        return self._call("GET", "/api/tags", query={"ResourceArn": ResourceArn, **params})

    def delete_tags(self, ResourceArn: str, TagKeys: list[str]) -> Doc:
        return self._call("POST", "/api/tags/delete", {"ResourceArn": ResourceArn, "TagKeys": TagKeys})

    # --- model registry (issue 11) ------------------------------------------------------------------
    # ``by`` names who acts, for the audit trail (sent as X-Greenfleet-Caller).
    def _registry_call(self, method: str, url: str, body: Doc | None = None, by: str | None = None) -> Doc:
        headers = {"X-Greenfleet-Caller": by} if by else None
        response = self._send(method, url, json=_json_doc(body) if body is not None else None, headers=headers)
        result: Doc = response.json() if response.content else {}
        return result

    def create_model_package_group(self, *, by: str | None = None, **params: Any) -> Doc:
        return self._registry_call("POST", "/api/model-package-groups", params, by)

    def describe_model_package_group(self, ModelPackageGroupName: str) -> Doc:
        return self._call("GET", f"/api/model-package-groups/{_path(ModelPackageGroupName)}")

    def list_model_package_groups(self, **params: Any) -> Doc:
        return self._call("GET", "/api/model-package-groups", query=params)

    def delete_model_package_group(self, ModelPackageGroupName: str, *, by: str | None = None) -> Doc:
        return self._registry_call("DELETE", f"/api/model-package-groups/{_path(ModelPackageGroupName)}", by=by)

    def create_model_package(self, *, by: str | None = None, **params: Any) -> Doc:
        return self._registry_call("POST", "/api/model-packages", params, by)

    def describe_model_package(self, ModelPackageName: str) -> Doc:
        return self._call("GET", f"/api/model-packages/{_version_path(ModelPackageName)}")

    def list_model_packages(self, **params: Any) -> Doc:
        return self._call("GET", "/api/model-packages", query=params)

    def update_model_package(self, ModelPackageArn: str, *, by: str | None = None, **params: Any) -> Doc:
        return self._registry_call("POST", f"/api/model-packages/{_version_path(ModelPackageArn)}", params, by)

    def delete_model_package(self, ModelPackageName: str, *, by: str | None = None) -> Doc:
        return self._registry_call("DELETE", f"/api/model-packages/{_version_path(ModelPackageName)}", by=by)

    def model_package_history(self, ModelPackageGroupName: str, ModelPackageVersion: int | None = None) -> Doc:
        return self._call("GET", f"/api/model-package-groups/{_path(ModelPackageGroupName)}/history",
                          query={"version": ModelPackageVersion})

    def champion(self, ModelPackageGroupName: str) -> Doc:
        return self._call("GET", f"/api/model-package-groups/{_path(ModelPackageGroupName)}/champion")

    def served_at(self, EndpointName: str, At: datetime | float | str) -> Doc:
        """Which model package version served ``EndpointName`` at ``At``, and who approved it."""
        return self._call("GET", "/api/registry/served", query={"EndpointName": EndpointName, "At": At})

    def create_registry_binding(self, *, by: str | None = None, **params: Any) -> Doc:
        return self._registry_call("POST", "/api/registry-bindings", params, by)

    def describe_registry_binding(self, EndpointName: str) -> Doc:
        return self._call("GET", f"/api/registry-bindings/{_path(EndpointName)}")

    def list_registry_bindings(self, ModelPackageGroupName: str | None = None) -> Doc:
        return self._call("GET", "/api/registry-bindings", query={"ModelPackageGroupName": ModelPackageGroupName})

    def delete_registry_binding(self, EndpointName: str, *, by: str | None = None) -> Doc:
        return self._registry_call("DELETE", f"/api/registry-bindings/{_path(EndpointName)}", by=by)

    # --- Application Auto Scaling (issue 14): ServiceNamespace defaults to sagemaker ---------------------
    def _scaling_query(self, url: str, params: Doc) -> Doc:
        query: list[tuple[str, str]] = [("ServiceNamespace", str(params.pop("ServiceNamespace", "sagemaker")))]
        for key, value in params.items():
            if isinstance(value, (list, tuple)):
                query += [(key, str(v)) for v in value]
            elif value is not None:
                query.append((key, str(value).lower() if isinstance(value, bool) else _query_value(value)))
        result: Doc = self._send("GET", url, params=query).json()
        return result

    def register_scalable_target(self, **params: Any) -> Doc:
        return self._call("POST", "/api/scalable-targets", {"ServiceNamespace": "sagemaker", **params})

    def describe_scalable_targets(self, **params: Any) -> Doc:
        return self._scaling_query("/api/scalable-targets", params)

    def deregister_scalable_target(self, **params: Any) -> Doc:
        return self._call("POST", "/api/scalable-targets/deregister", {"ServiceNamespace": "sagemaker", **params})

    def put_scaling_policy(self, **params: Any) -> Doc:
        return self._call("POST", "/api/scaling-policies", {"ServiceNamespace": "sagemaker", **params})

    def describe_scaling_policies(self, **params: Any) -> Doc:
        return self._scaling_query("/api/scaling-policies", params)

    def delete_scaling_policy(self, **params: Any) -> Doc:
        return self._call("POST", "/api/scaling-policies/delete", {"ServiceNamespace": "sagemaker", **params})

    def describe_scaling_activities(self, **params: Any) -> Doc:
        return self._scaling_query("/api/scaling-activities", params)

    # --- pagination --------------------------------------------------------------------------------
    def paginate(self, operation: Callable[..., Doc], key: str, **params: Any) -> Iterator[Doc]:
        """Every item of a List* operation, following NextToken: ``paginate(c.list_models, "Models")``."""
        while True:
            page = operation(**params)
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return
            params = {**params, "NextToken": token}

    def invoke_endpoint_async(self, EndpointName: str, InputLocation: str | None = None,
                              ContentType: str | None = None, Accept: str | None = None,
                              CustomAttributes: str | None = None, InferenceId: str | None = None,
                              S3OutputPathExtension: str | None = None, Filename: str | None = None,
                              RequestTTLSeconds: int | None = None, InvocationTimeoutSeconds: int | None = None,
                              Body: bytes | str | None = None) -> InvokeEndpointAsyncOutput:
        """InvokeEndpointAsync: ``POST /endpoints/{name}/async-invocations``, every member a header (the
        inline Body, at most 128,000 bytes, or an InputLocation); 202 with the inference id and locations."""
        given = {"ContentType": ContentType, "Accept": Accept, "CustomAttributes": CustomAttributes,
                 "Inference-Id": InferenceId, "InputLocation": InputLocation,
                 "S3OutputPathExtension": S3OutputPathExtension, "Filename": Filename,
                 "RequestTTLSeconds": RequestTTLSeconds, "InvocationTimeoutSeconds": InvocationTimeoutSeconds}
        names = {"ContentType": "Content-Type", "Accept": "Accept", "CustomAttributes": "Custom-Attributes"}
        headers = {f"X-Amzn-SageMaker-{names.get(k, k)}": str(v) for k, v in given.items() if v is not None}
        payload = Body.encode("utf-8") if isinstance(Body, str) else (Body or b"")
        response = self._send("POST", f"/endpoints/{_path(EndpointName)}/async-invocations", content=payload,
                              headers=headers)
        return InvokeEndpointAsyncOutput(
            InferenceId=response.json()["InferenceId"],
            OutputLocation=response.headers.get("x-amzn-sagemaker-outputlocation", ""),
            FailureLocation=response.headers.get("x-amzn-sagemaker-failurelocation", ""),
            ResponseMetadata=ResponseMetadata(HTTPStatusCode=response.status_code,
                                              HTTPHeaders={k.lower(): v for k, v in response.headers.items()}))

    # --- data plane --------------------------------------------------------------------------------
    def invoke_endpoint(self, EndpointName: str, Body: bytes | str, ContentType: str = "text/csv",
                        Accept: str | None = None, CustomAttributes: str | None = None,
                        TargetVariant: str | None = None, InferenceId: str | None = None) -> InvokeEndpointOutput:
        """InvokeEndpoint: ``POST /endpoints/{name}/invocations`` with SageMaker's headers; the answer in
        boto3's shape (``answer["Body"].read()``, ``answer["InvokedProductionVariant"]``)."""
        headers = {"Content-Type": ContentType}
        optional = {"Accept": Accept, "X-Amzn-SageMaker-Target-Variant": TargetVariant,
                    "X-Amzn-SageMaker-Custom-Attributes": CustomAttributes,
                    "X-Amzn-SageMaker-Inference-Id": InferenceId}
        headers.update({k: v for k, v in optional.items() if v is not None})
        payload = Body.encode("utf-8") if isinstance(Body, str) else Body
        response = self._send("POST", f"/endpoints/{_path(EndpointName)}/invocations", content=payload,
                              headers=headers)
        answer = InvokeEndpointOutput(
            Body=io.BytesIO(response.content),
            ContentType=response.headers.get("content-type", "application/octet-stream"),
            ResponseMetadata=ResponseMetadata(HTTPStatusCode=response.status_code,
                                              HTTPHeaders={k.lower(): v for k, v in response.headers.items()}))
        variant = response.headers.get("x-amzn-invoked-production-variant")
        if variant is not None:
            answer["InvokedProductionVariant"] = variant
        attributes = response.headers.get("x-amzn-sagemaker-custom-attributes")
        if attributes is not None:
            answer["CustomAttributes"] = attributes
        request_id = response.headers.get("x-amzn-requestid")
        if request_id is not None:
            answer["ResponseMetadata"]["RequestId"] = request_id
        return answer
