"""A seeded, bounded fuzz of every face: at least 1,000 malformed requests (native API, SageMaker JSON 1.1
on ``POST /``, CloudWatch JSON 1.0 and query, InvokeEndpoint) against a live server with a live endpoint.

Every request is broken by construction (a hostile value of the wrong kind, a required member removed,
a truncated or non-JSON body, NaN/Infinity, deep nesting), so none may change anything. Asserted: no 5xx
(for InvokeEndpoint, neither from the model: a body the runtime cannot read is the client's error), no
hang (each request has 10 s), and the state afterwards equals the state before. ``FUZZ_SEED`` and
``FUZZ_COUNT`` pick another run; a failure prints the request that caused it.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from greenfleet.server import Server
from tests.aws.servers import running_server
from tests.live.conftest import Api

SEED = int(os.environ.get("FUZZ_SEED", "19"))
COUNT = int(os.environ.get("FUZZ_COUNT", "1200"))
Doc = dict[str, Any]

RAW_CONSTANTS = ("NaN", "Infinity", "-Infinity")
"""Spliced into the JSON text as bare tokens, the way Python's json writes non-finite floats."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    face: str

    def describe(self) -> str:
        return f"{self.face} {self.method} {self.path} {self.headers} {self.body[:300]!r}"


# -- valid requests, which the mutations break ------------------------------------------------------------
def _model(name: str, url: str) -> Doc:
    return {"ModelName": name, "PrimaryContainer": {"Image": "greenfleet/sklearn", "ModelDataUrl": url}}


def _config(name: str) -> Doc:
    return {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "a", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
         "InitialVariantWeight": 1.0}]}


def _alarm(name: str) -> Doc:
    return {"AlarmName": name, "MetricName": "Errors", "Namespace": "Fuzz", "Statistic": "Sum", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold"}


def _metric_data() -> Doc:
    return {"Namespace": "Fuzz", "MetricData": [{"MetricName": "Errors", "Value": 1.0, "Unit": "Count",
                                                 "Dimensions": [{"Name": "Service", "Value": "api"}]}]}


def _get_data() -> Doc:
    return {"StartTime": 1_700_000_000, "EndTime": 1_700_000_600, "MetricDataQueries": [
        {"Id": "q", "MetricStat": {"Metric": {"Namespace": "Fuzz", "MetricName": "Errors"}, "Period": 60,
                                   "Stat": "Sum"}}]}


def _weights() -> Doc:
    return {"EndpointName": "e", "DesiredWeightsAndCapacities": [
        {"VariantName": "a", "DesiredWeight": 2.0, "DesiredInstanceCount": 1}]}


# (operation, valid body, required members) per face
SAGEMAKER: list[tuple[str, Callable[[str], Doc], tuple[str, ...]]] = [
    ("CreateModel", lambda url: _model("fz-model", url), ("ModelName",)),
    ("CreateEndpointConfig", lambda _url: _config("fz-config"), ("EndpointConfigName", "ProductionVariants")),
    ("CreateEndpoint", lambda _url: {"EndpointName": "fz-endpoint", "EndpointConfigName": "c"},
     ("EndpointName", "EndpointConfigName")),
    ("UpdateEndpoint", lambda _url: {"EndpointName": "e", "EndpointConfigName": "c2"},
     ("EndpointName", "EndpointConfigName")),
    ("UpdateEndpointWeightsAndCapacities", lambda _url: _weights(), ("EndpointName", "DesiredWeightsAndCapacities")),
    ("DeleteEndpoint", lambda _url: {"EndpointName": "e"}, ("EndpointName",)),
    ("DeleteModel", lambda _url: {"ModelName": "m"}, ("ModelName",)),
    ("ListModels", lambda _url: {"CreationTimeAfter": 1_700_000_000, "MaxResults": 10}, ()),
    ("DescribeEndpoint", lambda _url: {"EndpointName": "e"}, ("EndpointName",)),
    ("AddTags", lambda _url: {"ResourceArn": "arn:aws:sagemaker:us-east-1:000000000000:endpoint/e",
                              "Tags": [{"Key": "k", "Value": "v"}]}, ("ResourceArn", "Tags")),
]
CLOUDWATCH: list[tuple[str, Callable[[], Doc], tuple[str, ...]]] = [
    ("PutMetricAlarm", lambda: _alarm("fz-alarm"),
     ("AlarmName", "EvaluationPeriods", "ComparisonOperator")),
    ("PutMetricData", _metric_data, ("Namespace", "MetricData")),
    ("GetMetricData", _get_data, ("MetricDataQueries", "StartTime", "EndTime")),
    ("GetMetricStatistics", lambda: {"Namespace": "Fuzz", "MetricName": "Errors", "StartTime": 1_700_000_000,
                                     "EndTime": 1_700_000_600, "Period": 60, "Statistics": ["Sum"]},
     ("Namespace", "MetricName", "StartTime", "EndTime", "Period")),
    ("DeleteAlarms", lambda: {"AlarmNames": ["al"]}, ("AlarmNames",)),
    ("SetAlarmState", lambda: {"AlarmName": "al", "StateValue": "ALARM", "StateReason": "fuzz"},
     ("AlarmName", "StateValue", "StateReason")),
]
NATIVE: list[tuple[str, str, Callable[[str], Doc], tuple[str, ...]]] = [
    ("POST", "/api/models", lambda url: _model("fz-model", url), ("ModelName",)),
    ("POST", "/api/endpoint-configs", lambda _url: _config("fz-config"), ("EndpointConfigName",)),
    ("POST", "/api/endpoints", lambda _url: {"EndpointName": "fz-endpoint", "EndpointConfigName": "c"},
     ("EndpointConfigName",)),
    ("POST", "/api/endpoints/e/weights-and-capacities", lambda _url: _weights(), ("DesiredWeightsAndCapacities",)),
    ("POST", "/api/endpoints/e/update", lambda _url: {"EndpointConfigName": "c2"}, ("EndpointConfigName",)),
    ("PUT", "/api/alarms/fz-alarm", lambda _url: _alarm("fz-alarm"), ("EvaluationPeriods",)),
]


# -- the mutations --------------------------------------------------------------------------------------
class Mutator:
    """Breaks a valid body so that it is invalid whatever the dice say."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def leaves(self, doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
        found: list[tuple[tuple[Any, ...], Any]] = []
        if isinstance(doc, dict):
            for key, value in doc.items():
                found += self.leaves(value, (*path, key))
        elif isinstance(doc, list):
            for index, value in enumerate(doc):
                found += self.leaves(value, (*path, index))
        else:
            found.append((path, doc))
        return found

    def hostile(self, value: Any) -> Any:
        """A value of a kind ``value``'s member cannot take."""
        deep = f"__DEEP_{self.rng.choice((70, 300, 3000))}__"  # spliced in as nested arrays by ``dumps``
        if isinstance(value, bool):
            return self.rng.choice([{"x": 1}, "maybe", [True], deep])
        if isinstance(value, int | float):
            return self.rng.choice(["yesterday", {"n": 1}, [1], "", deep, "1e400", "NaN", "∞"])
        return self.rng.choice([{"s": "x"}, [["x"]], 10**30, 12.5, True, deep, {"": {}}])

    def json_body(self, doc: Doc, required: tuple[str, ...]) -> bytes:
        doc = copy.deepcopy(doc)
        kind = self.rng.randrange(6)
        if kind == 0 and required:  # drop a required member
            doc.pop(self.rng.choice(required), None)
            return dumps(doc)
        if kind == 1:  # a bare NaN/Infinity where a number stands (or anywhere)
            text = json.dumps(doc)
            numbers = [leaf for leaf in self.leaves(doc) if isinstance(leaf[1], int | float)
                       and not isinstance(leaf[1], bool)]
            constant = self.rng.choice(RAW_CONSTANTS)
            if numbers:
                path, value = self.rng.choice(numbers)
                self._set(doc, path, "__HOLE__")
                return dumps(doc).replace(b'"__HOLE__"', constant.encode())
            return (text[:-1] + f', "Extra": {constant}' + "}").encode()
        if kind == 2:  # truncated
            text = json.dumps(doc).encode()
            return text[: self.rng.randrange(1, len(text))]
        if kind == 3:  # not an object at all, or not JSON, or not UTF-8
            return self.rng.choice([b"[]", b'"text"', b"42", b"null", b"\xff\xfe{}", b"{'a': 1}", b"{,}",
                                    b"[" * 5000, b'{"a":' * 3000])
        leaves = self.leaves(doc)
        path, value = self.rng.choice(leaves)
        self._set(doc, path, self.hostile(value))
        return dumps(doc)

    @staticmethod
    def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
        for step in path[:-1]:
            doc = doc[step]
        doc[path[-1]] = value


def dumps(doc: Any) -> bytes:
    """JSON text, with each ``"__DEEP_n__"`` string replaced by ``n`` nested arrays."""
    text = json.dumps(doc)
    while '"__DEEP_' in text:
        start = text.index('"__DEEP_')
        end = text.index('__"', start + 8)
        depth = int(text[start + 8:end])
        text = text[:start] + "[" * depth + "]" * depth + text[end + 3:]
    return text.encode()


def query_form(rng: random.Random) -> list[tuple[str, str]]:
    """A CloudWatch query-protocol request, broken."""
    alarm = [("AlarmName", "fz-query"), ("MetricName", "Errors"), ("Namespace", "Fuzz"), ("Statistic", "Sum"),
             ("Period", "60"), ("EvaluationPeriods", "1"), ("Threshold", "1"),
             ("ComparisonOperator", "GreaterThanThreshold")]
    data = [("Namespace", "Fuzz"), ("MetricData.member.1.MetricName", "Errors"),
            ("MetricData.member.1.Value", "1")]
    action, fields, numbers, names = rng.choice([
        ("PutMetricAlarm", alarm, ("Period", "EvaluationPeriods", "Threshold"), ("AlarmName", "Namespace")),
        ("PutMetricData", data, ("MetricData.member.1.Value",), ("Namespace", "MetricData.member.1.MetricName")),
        ("GetMetricStatistics", [("Namespace", "Fuzz"), ("MetricName", "Errors"), ("StartTime", "1700000000"),
                                 ("EndTime", "1700000600"), ("Period", "60"), ("Statistics.member.1", "Sum")],
         ("StartTime", "EndTime", "Period"), ("Namespace", "MetricName")),
    ])
    fields = list(fields)
    kind = rng.randrange(4)
    if kind == 0:
        fields.pop(rng.randrange(len(fields)))
        if action == "PutMetricData" and ("Namespace", "Fuzz") in fields and len(fields) == 3:
            fields = [f for f in fields if f[0] != "Namespace"]  # keep it broken: Namespace is required
    elif kind == 1:
        name = rng.choice(numbers)
        fields = [(k, rng.choice(["NaN", "Infinity", "-inf", "yesterday", "", "1e400", "0x10"]) if k == name else v)
                  for k, v in fields]
    elif kind == 2:
        name = rng.choice(names)
        fields = [(k, "" if k == name else v) for k, v in fields]
    else:
        fields.append(("MetricData.member.1.Dimensions.member." + ".".join(["member.1"] * 50), "x"))
        fields = [(k, v) for k, v in fields if k not in names[:1]]
    return [("Action", action), ("Version", "2010-08-01"), *fields]


def generate(rng: random.Random, model_url: str) -> Iterator[Call]:
    mutate = Mutator(rng)
    sagemaker_type = "application/x-amz-json-1.1"
    while True:
        face = rng.choice(("native", "sagemaker", "cloudwatch-json", "cloudwatch-query", "invoke"))
        if face == "native":
            method, path, make, required = rng.choice(NATIVE)
            if rng.random() < 0.1:
                yield Call("GET", f"/api/models?CreationTimeAfter={rng.choice(['yesterday', 'nan', '1e999'])}",
                           b"", {}, face)
                continue
            yield Call(method, path, mutate.json_body(make(model_url), required),
                       {"Content-Type": "application/json"}, face)
        elif face == "sagemaker":
            operation, make_sm, required = rng.choice(SAGEMAKER)
            headers = {"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": sagemaker_type}
            body = mutate.json_body(make_sm(model_url), required)
            if rng.random() < 0.05:
                headers["Content-Encoding"] = "gzip"
                body = rng.choice([body, gzip.compress(body)[:-4]])  # not gzip, or a truncated gzip
                if body[:2] == b"\x1f\x8b":
                    pass
                else:
                    body = b"\x1f\x8b" + body  # a gzip magic on garbage
            yield Call("POST", "/", body, headers, face)
        elif face == "cloudwatch-json":
            operation, make_cw, required = rng.choice(CLOUDWATCH)
            headers = {"X-Amz-Target": f"GraniteServiceVersion20100801.{operation}",
                       "Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true"}
            yield Call("POST", "/", mutate.json_body(make_cw(), required), headers, face)
        elif face == "cloudwatch-query":
            form = query_form(rng)
            body = urlencode(form).encode()
            if rng.random() < 0.1:
                body = body.replace(b"=", b"=%zz", 1)  # broken percent-encoding
            yield Call("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"}, face)
        else:
            content_type, body = rng.choice([
                ("text/csv", b"1,2,3"), ("text/csv", b"nan," * 19 + b"nan"), ("text/csv", b"a,b,c\n\xff"),
                ("text/csv", b""), ("application/json", b'{"instances": ' + b"[" * 3000 + b"]" * 3000 + b"}"),
                ("application/json", b"[" * 200 + b"]" * 200), ("application/json", b"[[NaN, Infinity]]"),
                ("application/json", b'{"features": "x"}'), ("application/json", b"{"),
                ("application/x-npy", b"\x93NUMPY garbage"), ("application/jsonlines", b"[1]\n[1,2]\n{"),
                ("image/png", b"\x89PNG"), ("", bytes(rng.randrange(256) for _ in range(64))),
            ])
            yield Call("POST", "/endpoints/e/invocations", body, {"Content-Type": content_type}, face)


# -- the run ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sklearn_model: Path) -> Iterator[tuple[Server, str]]:
    with running_server(tmp_path_factory.mktemp("fuzz") / "home", strict_deployment_minimums=True) as server:
        api = Api(server.settings.base_url)
        api.call("POST", "/api/models", _model("m", str(sklearn_model)))
        api.call("POST", "/api/endpoint-configs", _config("c"))
        api.call("POST", "/api/endpoint-configs", {**_config("c2")})
        api.call("POST", "/api/endpoints", {"EndpointName": "e", "EndpointConfigName": "c"})
        api.wait_status("e", "InService")
        api.call("PUT", "/api/alarms/al", _alarm("al"))
        api.http.close()
        yield server, str(sklearn_model)


def snapshot(http: httpx.Client) -> Doc:
    endpoint = http.get("/api/endpoints/e").json()
    alarms = http.get("/api/alarms").json()["MetricAlarms"]
    keep = ("AlarmName", "Threshold", "Period", "EvaluationPeriods", "ComparisonOperator", "Namespace")
    query = {"Action": "ListMetrics", "Version": "2010-08-01", "Namespace": "Fuzz"}
    return {
        "models": sorted(m["ModelName"] for m in http.get("/api/models").json()["Models"]),
        "configs": sorted(c["EndpointConfigName"] for c in http.get("/api/endpoint-configs").json()["EndpointConfigs"]),
        "endpoints": sorted(e["EndpointName"] for e in http.get("/api/endpoints").json()["Endpoints"]),
        "endpoint": (endpoint["EndpointStatus"], endpoint["EndpointConfigName"],
                     [(v["VariantName"], v["DesiredWeight"], v["DesiredInstanceCount"])
                      for v in endpoint["ProductionVariants"]]),
        "tags": http.get("/api/tags", params={"ResourceArn": endpoint["EndpointArn"]}).json(),
        "alarms": [{k: a.get(k) for k in keep} for a in alarms],
        "fuzz_metrics": http.post("/", data=query).text.count("<MetricName>"),
    }


def test_malformed_requests_on_every_face(world: tuple[Server, str]) -> None:
    server, model_url = world
    rng = random.Random(SEED)
    with httpx.Client(base_url=server.settings.base_url, timeout=10) as http:
        before = snapshot(http)
        faces: dict[str, int] = {}
        for call in (c for c, _ in zip(generate(rng, model_url), range(COUNT), strict=False)):
            try:
                response = http.request(call.method, call.path, content=call.body, headers=call.headers)
            except httpx.TimeoutException:
                pytest.fail(f"no answer within 10 s to: {call.describe()}")
            assert response.status_code < 500, f"{response.status_code} {response.text[:300]} <- {call.describe()}"
            if response.status_code == 424:  # the model's own answer: a client error too
                assert response.json()["OriginalStatusCode"] < 500, f"{response.text[:300]} <- {call.describe()}"
            assert response.status_code >= 400, f"accepted: {response.text[:300]} <- {call.describe()}"
            faces[call.face] = faces.get(call.face, 0) + 1
        after = snapshot(http)
    assert sum(faces.values()) >= 1000 and all(count >= 150 for count in faces.values()), faces
    assert after == before
