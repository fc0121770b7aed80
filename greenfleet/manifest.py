"""``greenfleet apply -f endpoint.yaml``: models, endpoint configurations and endpoints declared in one
YAML file, created in that order, idempotently.

The file has up to three lists; each entry is either SageMaker's Create* request (``ModelName``,
``EndpointConfigName``, ``EndpointName`` ...) or a friendlier form::

    models:
      - name: churn-v1
        image: greenfleet/sklearn
        modelDataUrl: models/churn-v1/model.tar.gz   # relative paths: from the manifest's directory
        environment: {LOG_LEVEL: info}
        tags: {team: risk}
    endpointConfigs:
      - name: churn-config
        variants:
          - {name: blue, model: churn-v1, weight: 0.7, instanceCount: 1, instanceType: ml.m5.large}
          - {name: green, model: churn-v2, weight: 0.3, routing: RANDOM}
    endpoints:
      - {name: churn, config: churn-config}

Two more lists for the model registry (created first and last): ``modelPackageGroups`` (``name``,
``description``, or CreateModelPackageGroup's request) and ``registryBindings``, which bind a group to an
endpoint variant so that approving a version deploys it through ``deploymentConfig``::

    modelPackageGroups:
      - {name: churn, description: churn models}
    registryBindings:
      - {endpoint: churn, group: churn, variant: blue, deploymentConfig: {BlueGreenUpdatePolicy: ...}}

Models and endpoint configurations are immutable, as in SageMaker: one that exists with the same
definition is "unchanged", one that exists with a different definition is a conflict (give the new
version a new name). An endpoint that exists serving another configuration needs UpdateEndpoint;
it is called when the client offers ``update_endpoint``. Nothing is created unless the whole file is
valid and free of conflicts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from greenfleet.client import ApiError, Client
from greenfleet.errors import ValidationError
from greenfleet.resources.servicemodel import validate_input

__all__ = ["Change", "Manifest", "ManifestError", "Plan", "Resource", "apply", "load", "parse", "plan"]

Doc = dict[str, Any]
SECTIONS = {"models": "model", "endpointConfigs": "endpoint-config", "endpoints": "endpoint",
            "modelPackageGroups": "model-package-group", "registryBindings": "registry-binding"}
NATIVE_NAME = {"model": "ModelName", "endpoint-config": "EndpointConfigName", "endpoint": "EndpointName"}
OPERATION = {"model": "CreateModel", "endpoint-config": "CreateEndpointConfig", "endpoint": "CreateEndpoint",
             "model-package-group": "CreateModelPackageGroup"}
REF_KIND = {"endpoint-config": "model", "endpoint": "endpoint-config", "registry-binding": "endpoint"}
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_ROUTING = {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}


class ManifestError(Exception):
    """The manifest cannot be applied; ``problems`` are ``"yaml.path: what is wrong"`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Resource:
    kind: str
    """``model``, ``endpoint-config`` or ``endpoint``."""
    name: str
    params: Doc
    """SageMaker's Create* request."""
    where: str
    """Its YAML path, e.g. ``endpointConfigs[0]``."""
    refs: list[tuple[str, str]] = field(default_factory=list)
    """(YAML path, name) of the models or configuration it uses."""


@dataclass(frozen=True)
class Manifest:
    models: list[Resource]
    configs: list[Resource]
    endpoints: list[Resource]
    groups: list[Resource] = field(default_factory=list)
    bindings: list[Resource] = field(default_factory=list)

    def all(self) -> list[Resource]:
        return [*self.groups, *self.models, *self.configs, *self.endpoints, *self.bindings]


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    action: str
    """``created``, ``unchanged`` or ``updated`` (UpdateEndpoint was called to switch the config)."""
    detail: str = ""


# --- reading -----------------------------------------------------------------------------------------
class _Reader:
    """Type checks that collect ``path: problem`` lines instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def mapping(self, value: Any, where: str) -> Doc | None:
        if isinstance(value, dict):
            return value
        self.problems.append(f"{where}: expected a mapping, got {_kind(value)}")
        return None

    def items(self, value: Any, where: str) -> list[Any]:
        if isinstance(value, list):
            return value
        self.problems.append(f"{where}: expected a list, got {_kind(value)}")
        return []

    def keys(self, doc: Doc, where: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
        for key in doc:
            if key not in allowed:
                self.problems.append(f"{where}.{key}: unknown key; expected one of: {', '.join(allowed)}")
        for key in required:
            if doc.get(key) in (None, ""):
                self.problems.append(f"{where}.{key}: required")

    def check(self, doc: Doc, where: str, key: str, types: tuple[type, ...], label: str) -> None:
        value = doc.get(key)
        if value is not None and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            self.problems.append(f"{where}.{key}: expected {label}, got {_kind(value)}")

    def tags(self, doc: Doc, where: str) -> list[Doc]:
        tags = doc.get("tags")
        if tags is None:
            return []
        found = self.mapping(tags, f"{where}.tags")
        return [{"Key": str(k), "Value": str(v)} for k, v in (found or {}).items()]


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _resolve_url(url: Any, base_dir: Path) -> Any:
    """A relative local path is relative to the manifest's directory."""
    if isinstance(url, str) and url and "://" not in url and not Path(url).is_absolute():
        return str((base_dir / url).resolve())
    return url


def _model(doc: Doc, where: str, reader: _Reader, base_dir: Path) -> Resource:
    if "ModelName" in doc:
        params = copy.deepcopy(doc)
        containers = params.get("Containers")
        for listed in [params.get("PrimaryContainer"), *(containers if isinstance(containers, list) else [])]:
            if isinstance(listed, dict) and "ModelDataUrl" in listed:
                listed["ModelDataUrl"] = _resolve_url(listed["ModelDataUrl"], base_dir)
        return Resource("model", str(doc["ModelName"]), params, where)
    reader.keys(doc, where, ("name", "image", "modelDataUrl", "environment", "tags"), ("name", "image"))
    for key in ("name", "image", "modelDataUrl"):
        reader.check(doc, where, key, (str,), "a string")
    reader.check(doc, where, "environment", (dict,), "a mapping")
    container: Doc = {"Image": doc.get("image")}
    if doc.get("modelDataUrl") is not None:
        container["ModelDataUrl"] = _resolve_url(doc["modelDataUrl"], base_dir)
    if isinstance(doc.get("environment"), dict):
        container["Environment"] = {str(k): str(v) for k, v in doc["environment"].items()}
    params = {"ModelName": doc.get("name"), "PrimaryContainer": container}
    tags = reader.tags(doc, where)
    if tags:
        params["Tags"] = tags
    return Resource("model", str(doc.get("name")), params, where)


def _variant(doc: Any, where: str, reader: _Reader) -> Doc:
    found = reader.mapping(doc, where)
    if found is None:
        return {}
    reader.keys(found, where, ("name", "model", "instanceCount", "instanceType", "weight", "routing"),
                ("name", "model"))
    for key in ("name", "model", "instanceType", "routing"):
        reader.check(found, where, key, (str,), "a string")
    reader.check(found, where, "instanceCount", (int,), "an integer")
    reader.check(found, where, "weight", (int, float), "a number")
    variant: Doc = {"VariantName": found.get("name"), "ModelName": found.get("model"),
                    "InitialInstanceCount": found.get("instanceCount", 1),
                    "InstanceType": found.get("instanceType", DEFAULT_INSTANCE_TYPE),
                    "InitialVariantWeight": found.get("weight", 1.0)}
    if found.get("routing") is not None:
        variant["RoutingConfig"] = {"RoutingStrategy": found["routing"]}
    return variant


def _config(doc: Doc, where: str, reader: _Reader) -> Resource:
    if "EndpointConfigName" in doc:
        variants = doc.get("ProductionVariants")
        refs = [(f"{where}.ProductionVariants[{i}].ModelName", str(v.get("ModelName")))
                for i, v in enumerate(variants if isinstance(variants, list) else []) if isinstance(v, dict)]
        return Resource("endpoint-config", str(doc["EndpointConfigName"]), dict(doc), where, refs)
    reader.keys(doc, where, ("name", "variants", "tags"), ("name", "variants"))
    reader.check(doc, where, "name", (str,), "a string")
    listed = reader.items(doc.get("variants", []), f"{where}.variants")
    variants = [_variant(v, f"{where}.variants[{i}]", reader) for i, v in enumerate(listed)]
    params: Doc = {"EndpointConfigName": doc.get("name"), "ProductionVariants": variants}
    tags = reader.tags(doc, where)
    if tags:
        params["Tags"] = tags
    refs = [(f"{where}.variants[{i}].model", str(v.get("ModelName"))) for i, v in enumerate(variants) if v]
    return Resource("endpoint-config", str(doc.get("name")), params, where, refs)


def _endpoint(doc: Doc, where: str, reader: _Reader) -> Resource:
    if "EndpointName" in doc:
        refs = [(f"{where}.EndpointConfigName", str(doc.get("EndpointConfigName")))]
        return Resource("endpoint", str(doc["EndpointName"]), dict(doc), where, refs)
    reader.keys(doc, where, ("name", "config", "tags"), ("name", "config"))
    for key in ("name", "config"):
        reader.check(doc, where, key, (str,), "a string")
    params: Doc = {"EndpointName": doc.get("name"), "EndpointConfigName": doc.get("config")}
    tags = reader.tags(doc, where)
    if tags:
        params["Tags"] = tags
    return Resource("endpoint", str(doc.get("name")), params, where, [(f"{where}.config", str(doc.get("config")))])


def _group(doc: Doc, where: str, reader: _Reader) -> Resource:
    if "ModelPackageGroupName" in doc:
        return Resource("model-package-group", str(doc["ModelPackageGroupName"]), dict(doc), where)
    reader.keys(doc, where, ("name", "description"), ("name",))
    for key in ("name", "description"):
        reader.check(doc, where, key, (str,), "a string")
    params: Doc = {"ModelPackageGroupName": doc.get("name")}
    if doc.get("description"):
        params["ModelPackageGroupDescription"] = doc["description"]
    return Resource("model-package-group", str(doc.get("name")), params, where)


def _binding(doc: Doc, where: str, reader: _Reader) -> Resource:
    reader.keys(doc, where, ("endpoint", "group", "variant", "deploymentConfig"), ("endpoint", "group"))
    for key in ("endpoint", "group", "variant"):
        reader.check(doc, where, key, (str,), "a string")
    reader.check(doc, where, "deploymentConfig", (dict,), "a mapping")
    params: Doc = {"EndpointName": doc.get("endpoint"), "ModelPackageGroupName": doc.get("group")}
    if doc.get("variant"):
        params["VariantName"] = doc["variant"]
    if doc.get("deploymentConfig"):
        params["DeploymentConfig"] = doc["deploymentConfig"]
    return Resource("registry-binding", str(doc.get("endpoint")), params, where,
                    [(f"{where}.endpoint", str(doc.get("endpoint")))])


def parse(document: Any, base_dir: Path) -> Manifest:
    """A loaded YAML document as a Manifest; raises ManifestError listing every problem."""
    reader = _Reader()
    top = reader.mapping(document, "(top level)") if document is not None else {}
    if top is not None and not any(top.get(section) for section in SECTIONS):
        reader.problems.append(f"(top level): nothing to apply; expected some of: {', '.join(SECTIONS)}")
    top = top or {}
    for key in top:
        if key not in SECTIONS:
            reader.problems.append(f"{key}: unknown section; expected one of: {', '.join(SECTIONS)}")
    builders: dict[str, Callable[[Doc, str], Resource]] = {
        "models": lambda d, w: _model(d, w, reader, base_dir),
        "endpointConfigs": lambda d, w: _config(d, w, reader),
        "endpoints": lambda d, w: _endpoint(d, w, reader),
        "modelPackageGroups": lambda d, w: _group(d, w, reader),
        "registryBindings": lambda d, w: _binding(d, w, reader),
    }
    sections: dict[str, list[Resource]] = {}
    for section, build in builders.items():
        resources: list[Resource] = []
        for index, entry in enumerate(reader.items(top.get(section) or [], section)):
            where = f"{section}[{index}]"
            doc = reader.mapping(entry, where)
            if doc is not None:
                resources.append(build(doc, where))
        sections[section] = resources
    manifest = Manifest(sections["models"], sections["endpointConfigs"], sections["endpoints"],
                        sections["modelPackageGroups"], sections["registryBindings"])
    _validate(manifest, reader)
    if reader.problems:
        raise ManifestError(reader.problems)
    return manifest


def _validate(manifest: Manifest, reader: _Reader) -> None:
    """SageMaker's own constraints (names, ranges, enums) and unique names within each kind."""
    seen: dict[tuple[str, str], str] = {}
    for resource in manifest.all():
        if resource.kind in OPERATION and not any(
                p.startswith(f"{resource.where}.") or p.startswith(f"{resource.where}:") for p in reader.problems):
            try:
                validate_input("sagemaker", OPERATION[resource.kind], resource.params)
            except ValidationError as exc:
                reader.problems.append(f"{resource.where}: {exc.message}")
        key = (resource.kind, resource.name)
        if key in seen:
            reader.problems.append(f"{resource.where}: duplicate {resource.kind} name '{resource.name}' "
                                   f"(also {seen[key]})")
        seen.setdefault(key, resource.where)


def load(path: Path) -> Manifest:
    """Read and validate the manifest at ``path``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError([f"{path}: {exc.strerror or exc}"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise ManifestError([f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}"]) from exc
    return parse(document, path.parent)


# --- applying ----------------------------------------------------------------------------------------
def _normalized(kind: str, doc: Doc) -> Doc:
    """A definition as the server stores it: server-set members dropped, SageMaker's defaults filled in."""
    ignored = {"Tags", "CreationTime", "ModelArn", "EndpointConfigArn"}
    result = {k: v for k, v in doc.items() if k not in ignored}
    if kind == "endpoint-config":
        for group in ("ProductionVariants", "ShadowProductionVariants"):
            if result.get(group):
                result[group] = [{"InitialVariantWeight": 1.0, "RoutingConfig": DEFAULT_ROUTING, **v}
                                 for v in result[group]]
        if result.get("DataCaptureConfig"):
            result["DataCaptureConfig"] = {"EnableCapture": True, **result["DataCaptureConfig"]}
    return result


def _differences(wanted: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(wanted, dict) and isinstance(actual, dict):
        return [d for key in sorted(set(wanted) | set(actual))
                for d in _differences(wanted.get(key), actual.get(key), f"{path}.{key}" if path else key)]
    if isinstance(wanted, list) and isinstance(actual, list) and len(wanted) == len(actual):
        return [d for i, (w, a) in enumerate(zip(wanted, actual, strict=True))
                for d in _differences(w, a, f"{path}[{i}]")]
    return [] if wanted == actual else [path or "(definition)"]


def _existing(client: Client, resource: Resource) -> Doc | None:
    describe = {"model": client.describe_model, "endpoint-config": client.describe_endpoint_config,
                "endpoint": client.describe_endpoint, "model-package-group": client.describe_model_package_group,
                "registry-binding": client.describe_registry_binding}[resource.kind]
    try:
        return describe(resource.name)
    except ApiError as exc:
        if exc.not_found or (resource.kind in ("model-package-group", "registry-binding")
                             and exc.code == "ValidationException"):
            return None
        raise


Plan = list[tuple[Resource, str, Doc | None]]


def plan(manifest: Manifest, client: Client) -> Plan:
    """What to do with each resource: ``create``, ``unchanged`` or ``switch`` (endpoints only)."""
    problems: list[str] = []
    plan: list[tuple[Resource, str, Doc | None]] = []
    declared = {(r.kind, r.name) for r in manifest.all()}
    for resource in manifest.all():
        current = _existing(client, resource)
        ref_kind = REF_KIND.get(resource.kind, "")
        for where, name in resource.refs:
            if (ref_kind, name) not in declared and _existing(client, Resource(ref_kind, name, {}, where)) is None:
                problems.append(f"{where}: {ref_kind} '{name}' is neither in the manifest nor on the server")
        group = resource.params.get("ModelPackageGroupName") if resource.kind == "registry-binding" else None
        if group and ("model-package-group", group) not in declared and _existing(
                client, Resource("model-package-group", str(group), {}, resource.where)) is None:
            problems.append(f"{resource.where}.group: model package group '{group}' is neither in the manifest "
                            "nor on the server")
        if current is None:
            plan.append((resource, "create", None))
        elif resource.kind == "endpoint":
            if current["EndpointStatus"] == "Deleting":
                problems.append(f"{resource.where}: endpoint '{resource.name}' is being deleted; apply again later")
            same = current.get("EndpointConfigName") == resource.params["EndpointConfigName"]
            plan.append((resource, "unchanged" if same else "switch", current))
        elif resource.kind == "registry-binding":
            wanted = {k: resource.params.get(k) for k in ("ModelPackageGroupName", "DeploymentConfig")}
            have = {k: current.get(k) for k in wanted}
            if resource.params.get("VariantName") not in (None, current.get("VariantName")) or wanted != have:
                problems.append(f"{resource.where}: endpoint '{resource.name}' is already bound differently; "
                                "unbind it first (greenfleet registry unbind)")
            plan.append((resource, "unchanged", current))
        elif resource.kind == "model-package-group":
            if resource.params.get("ModelPackageGroupDescription") != current.get("ModelPackageGroupDescription"):
                problems.append(f"{resource.where}: model package group '{resource.name}' already exists with "
                                "another description")
            plan.append((resource, "unchanged", current))
        else:
            diff = _differences(_normalized(resource.kind, resource.params), _normalized(resource.kind, current))
            if diff:
                problems.append(f"{resource.where}: {resource.kind} '{resource.name}' already exists with a "
                                f"different definition ({', '.join(diff)}); it is immutable: give the changed "
                                "version a new name")
            plan.append((resource, "unchanged", current))
    if problems:
        raise ManifestError(problems)
    return plan


def _switch(client: Client, resource: Resource, current: Doc) -> Change:
    wanted = resource.params["EndpointConfigName"]
    extra = {k: v for k, v in resource.params.items() if k == "DeploymentConfig"}
    client.update_endpoint(EndpointName=resource.name, EndpointConfigName=wanted, **extra)
    return Change("endpoint", resource.name, "updated", f"{current.get('EndpointConfigName')} -> {wanted}")


def apply(manifest: Manifest, client: Client, wait: bool = False, timeout_s: float = 600.0,
          planned: Plan | None = None) -> list[Change]:
    """Create what is missing, in order (models, configurations, endpoints), switch endpoints to their
    declared configuration; report what is unchanged. ``planned``: the ``plan`` already shown to the user
    (default: planned now). With ``wait``, wait until every created or updated endpoint is InService."""
    create = {"model": client.create_model, "endpoint-config": client.create_endpoint_config,
              "endpoint": client.create_endpoint, "model-package-group": client.create_model_package_group,
              "registry-binding": client.create_registry_binding}
    changes: list[Change] = []
    for resource, action, current in plan(manifest, client) if planned is None else planned:
        if action == "create":
            create[resource.kind](**resource.params)
            changes.append(Change(resource.kind, resource.name, "created"))
        elif action == "switch" and current is not None:
            changes.append(_switch(client, resource, current))
        else:
            status = (current or {}).get("EndpointStatus", "")
            changes.append(Change(resource.kind, resource.name, "unchanged", status))
    if wait:
        for change in changes:
            if change.kind == "endpoint" and change.action == "created":
                client.wait_for_endpoint(EndpointName=change.name, Timeout=timeout_s)
            elif change.kind == "endpoint" and change.action == "updated":
                final = client.wait_for_deployment(EndpointName=change.name, Timeout=timeout_s)
                if final.get("EndpointStatus") != "InService" or final.get("FailureReason"):
                    raise ManifestError([f"endpoints: the update of {change.name} did not complete: "
                                         f"{final.get('EndpointStatus')}: {final.get('FailureReason')}"])
    return changes
