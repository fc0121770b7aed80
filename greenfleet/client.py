"""A synchronous Python client of greenfleet's native REST API and of InvokeEndpoint.

Methods are SageMaker's operations in snake_case; they take SageMaker's members as keyword arguments
and return SageMaker's response shapes, so code written against boto3's ``sagemaker`` client reads the
same::

    client = Client("http://127.0.0.1:8080")
    client.create_model(ModelName="m", PrimaryContainer={"Image": "greenfleet/sklearn"})
    client.describe_model(ModelName="m")["CreationTime"]

Errors::

    ClientError
     ├── ApiError            the server answered with an error: status, code, message (e.g. ValidationException)
     ├── ServerUnreachable   no answer from the base URL (connection refused, timeout)
     └── WaiterError         wait_for_*: the endpoint Failed, or the wait timed out
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

__all__ = ["ApiError", "Client", "ClientError", "InvokeResult", "ServerUnreachable", "WaiterError"]

Doc = dict[str, Any]
DEFAULT_URL = "http://127.0.0.1:8080"
NOT_FOUND_CODES = {"ValidationException", "ValidationError", "ResourceNotFound"}
DEPLOYMENT_ENDED = {"InService", "UpdateRollbackFailed"}
"""Endpoint statuses in which no deployment runs any more (wait_for_deployment)."""


class ClientError(Exception):
    """Base of every error the client raises."""


class ApiError(ClientError):
    """The server answered with an error status."""

    def __init__(self, status: int, code: str, message: str, details: Doc | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: Doc = details or {}

    @property
    def not_found(self) -> bool:
        """SageMaker answers a missing resource with a ValidationException "Could not find ..."."""
        message = self.message.lower()
        return self.code in NOT_FOUND_CODES and ("could not find" in message or "not found" in message)


class ServerUnreachable(ClientError):
    """Nothing answered at the base URL."""


class WaiterError(ClientError):
    """A wait ended without reaching the wanted state; ``last`` is the last DescribeEndpoint answer."""

    def __init__(self, message: str, last: Doc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.last: Doc = last or {}


@dataclass(frozen=True)
class InvokeResult:
    """InvokeEndpoint's answer."""

    body: bytes
    content_type: str
    invoked_variant: str | None = None
    custom_attributes: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    def text(self) -> str:
        return self.body.decode("utf-8")


def _path(name: str) -> str:
    return quote(name, safe="")


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


class Client:
    """greenfleet's REST API at ``base_url``; usable as a context manager."""

    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None, token: str | None = None) -> None:
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
                        RetainDeploymentConfig: bool | None = None) -> Doc:
        """UpdateEndpoint: start a blue/green or rolling deployment; returns ``{"EndpointArn": ...}`` at once."""
        optional = {"DeploymentConfig": DeploymentConfig, "RetainAllVariantProperties": RetainAllVariantProperties,
                    "ExcludeRetainedVariantProperties": ExcludeRetainedVariantProperties,
                    "RetainDeploymentConfig": RetainDeploymentConfig}
        body: Doc = {"EndpointConfigName": EndpointConfigName, **{k: v for k, v in optional.items() if v is not None}}
        return self._call("POST", f"/api/endpoints/{_path(EndpointName)}/update", body)

    def list_deployments(self, endpoint_name: str) -> Doc:
        """``{"Deployments": [...]}``, newest first: id, strategy, from/to config, phase, outcome, times."""
        return self._call("GET", f"/api/endpoints/{_path(endpoint_name)}/deployments")

    def describe_deployment(self, endpoint_name: str, deployment_id: str | None = None) -> Doc:
        """One deployment (the newest when ``deployment_id`` is None) with its View and Timeline."""
        which = _path(deployment_id) if deployment_id is not None else "latest"
        return self._call("GET", f"/api/endpoints/{_path(endpoint_name)}/deployments/{which}")

    def command_deployment(self, endpoint_name: str, command: str, reason: str = "", by: str | None = None,
                           command_id: str | None = None) -> Doc:
        """ABORT, PAUSE, RESUME, APPROVE or PROMOTE the running deployment (recorded with who and why)."""
        body = {"Reason": reason, "By": by, "CommandId": command_id}
        return self._call("POST", f"/api/endpoints/{_path(endpoint_name)}/deployment/{_path(command.lower())}",
                          {k: v for k, v in body.items() if v is not None})

    # --- alarms (CloudWatch's DescribeAlarms) ------------------------------------------------------
    def describe_alarms(self, AlarmNames: list[str] | None = None, AlarmNamePrefix: str | None = None,
                        StateValue: str | None = None) -> Doc:
        """``{"MetricAlarms": [...]}`` with each alarm's StateValue, StateReason and definition."""
        query: dict[str, Any] = {"name": AlarmNames, "prefix": AlarmNamePrefix, "state": StateValue}
        response = self._send("GET", "/api/alarms", params={k: v for k, v in query.items() if v is not None})
        result: Doc = response.json()
        return result

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

    # --- events -------------------------------------------------------------------------------------
    def list_events(self, source: str | None = None, detail_type: str | None = None, resource: str | None = None,
                    since: datetime | float | str | None = None, until: datetime | float | str | None = None,
                    after: int | None = None, limit: int = 100, order: str = "asc") -> Doc:
        """``{"Events": [...], "LastSeq": n}`` from the event log, oldest first (``order="desc"``: newest
        first); ``after`` is a sequence number (``LastSeq`` of the previous call) to read only newer events."""
        return self._call("GET", "/api/events", query={"source": source, "detail_type": detail_type,
                                                       "resource": resource, "since": since, "until": until,
                                                       "after": after, "limit": limit, "order": order})

    def get_event(self, event_id: str) -> Doc:
        return self._call("GET", f"/api/events/{_path(event_id)}")

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

    # --- data plane --------------------------------------------------------------------------------
    def invoke_endpoint(self, endpoint_name: str, body: bytes | str, content_type: str = "text/csv",
                        accept: str | None = None, target_variant: str | None = None,
                        custom_attributes: str | None = None, inference_id: str | None = None) -> InvokeResult:
        """InvokeEndpoint: ``POST /endpoints/{name}/invocations`` with SageMaker's headers."""
        headers = {"Content-Type": content_type}
        optional = {"Accept": accept, "X-Amzn-SageMaker-Target-Variant": target_variant,
                    "X-Amzn-SageMaker-Custom-Attributes": custom_attributes,
                    "X-Amzn-SageMaker-Inference-Id": inference_id}
        headers.update({k: v for k, v in optional.items() if v is not None})
        payload = body.encode("utf-8") if isinstance(body, str) else body
        response = self._send("POST", f"/endpoints/{_path(endpoint_name)}/invocations", content=payload,
                              headers=headers)
        return InvokeResult(
            body=response.content,
            content_type=response.headers.get("content-type", "application/octet-stream"),
            invoked_variant=response.headers.get("x-amzn-invoked-production-variant"),
            custom_attributes=response.headers.get("x-amzn-sagemaker-custom-attributes"),
            headers=dict(response.headers),
        )

    # --- waiters -----------------------------------------------------------------------------------
    def wait_for_endpoint(self, name: str, status: str = "InService", timeout_s: float = 600.0,
                          poll_s: float = 0.5) -> Doc:
        """Poll DescribeEndpoint until the endpoint's status is ``status``; return that description.
        Raises WaiterError if it turns Failed (with its FailureReason) or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while True:
            described = self.describe_endpoint(EndpointName=name)
            current = described["EndpointStatus"]
            if current == status:
                return described
            if current == "Failed":
                reason = described.get("FailureReason", "no reason given")
                raise WaiterError(f"endpoint {name} failed: {reason}", described)
            if time.monotonic() >= deadline:
                raise WaiterError(f"endpoint {name} is still {current} after {timeout_s:g} s "
                                  f"(waiting for {status})", described)
            time.sleep(poll_s)

    def wait_for_deployment(self, endpoint_name: str, timeout_s: float = 30000.0, poll_s: float = 1.0,
                            on_progress: Callable[[Doc], None] | None = None) -> Doc:
        """Poll DescribeEndpoint until the endpoint's deployment has ended; return that last description.

        The deployment has ended when the endpoint is InService (on the new config, or on the old one
        after a rollback: then FailureReason says why) or UpdateRollbackFailed. ``on_progress`` gets
        every DescribeEndpoint answer, the last one included. The server being briefly unreachable (a
        restart resumes the deployment) is retried until ``timeout_s``. Raises WaiterError if the
        endpoint turns Failed or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                described = self.describe_endpoint(EndpointName=endpoint_name)
            except ServerUnreachable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(poll_s)
                continue
            if on_progress is not None:
                on_progress(described)
            current = described["EndpointStatus"]
            if current in DEPLOYMENT_ENDED:
                return described
            if current == "Failed":
                reason = described.get("FailureReason", "no reason given")
                raise WaiterError(f"endpoint {endpoint_name} failed: {reason}", described)
            if time.monotonic() >= deadline:
                raise WaiterError(f"the deployment of endpoint {endpoint_name} has not ended after {timeout_s:g} s "
                                  f"(the endpoint is {current})", described)
            time.sleep(poll_s)

    def wait_for_deletion(self, name: str, timeout_s: float = 300.0, poll_s: float = 0.5) -> None:
        """Poll DescribeEndpoint until the endpoint no longer exists."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                described = self.describe_endpoint(EndpointName=name)
            except ApiError as exc:
                if exc.not_found:
                    return
                raise
            if described["EndpointStatus"] == "Failed":
                raise WaiterError(f"endpoint {name} failed while deleting: "
                                  f"{described.get('FailureReason', 'no reason given')}", described)
            if time.monotonic() >= deadline:
                raise WaiterError(f"endpoint {name} still exists ({described['EndpointStatus']}) after "
                                  f"{timeout_s:g} s", described)
            time.sleep(poll_s)

    # --- Model Monitor ----------------------------------------------------------------------------------
    def suggest_baseline(self, **params: Any) -> Doc:
        """Baseline a dataset: DatasetUri, DatasetFormat (csv | json), Header, OutputUri."""
        return self._call("POST", "/api/monitoring/baselines", params)

    def create_monitoring_schedule(self, **params: Any) -> Doc:
        return self._call("POST", "/api/monitoring/schedules", params)

    def describe_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("GET", f"/api/monitoring/schedules/{_path(MonitoringScheduleName)}")

    def list_monitoring_schedules(self) -> Doc:
        return self._call("GET", "/api/monitoring/schedules")

    def list_monitoring_executions(self, MonitoringScheduleName: str) -> Doc:
        return self._call("GET", f"/api/monitoring/schedules/{_path(MonitoringScheduleName)}/executions")

    def monitoring_report(self, MonitoringScheduleName: str) -> Doc:
        return self._call("GET", f"/api/monitoring/schedules/{_path(MonitoringScheduleName)}/report")

    def stop_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("POST", f"/api/monitoring/schedules/{_path(MonitoringScheduleName)}/stop")

    def start_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("POST", f"/api/monitoring/schedules/{_path(MonitoringScheduleName)}/start")

    def delete_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("DELETE", f"/api/monitoring/schedules/{_path(MonitoringScheduleName)}")
