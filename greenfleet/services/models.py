"""Models and endpoint configurations: create, describe, list, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenfleet.asyncinference.config import parse_async_config
from greenfleet.asyncinference.locations import Locations
from greenfleet.capture.config import check_capture_config
from greenfleet.clock import Clock
from greenfleet.errors import ValidationError
from greenfleet.resources.names import ArnFactory
from greenfleet.resources.pipeline import is_pipeline
from greenfleet.resources.servicemodel import validate_input
from greenfleet.services.capacity import InstanceLimits
from greenfleet.services.listing import page
from greenfleet.services.pipelines import check_pipeline, pipeline_document
from greenfleet.services.tags import TagService
from greenfleet.store.repository import Repository
from greenfleet.workers.images import image_allowed

Doc = dict[str, Any]
SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)  # SageMaker: 1 GB steps
MAX_SERVERLESS_CONCURRENCY = 200
SORT_NAME_TIME = {
    "Name": lambda i: i["_name"],
    "CreationTime": lambda i: i["CreationTime"],
}


def _variant_names(params: Doc) -> list[str]:
    return [v["VariantName"] for v in params.get("ProductionVariants", [])] + [
        v["VariantName"] for v in params.get("ShadowProductionVariants", []) or []
    ]


class ModelService:
    def __init__(self, repo: Repository, arns: ArnFactory, clock: Clock, tags: TagService) -> None:
        self.repo, self.arns, self.clock, self.tags = repo, arns, clock, tags
        # The model registry's resolver of Containers[].ModelPackageName (set by the server when it runs one).
        self.package_container: Callable[[Doc, str], Doc] | None = None
        self.limits: InstanceLimits | None = None
        self.async_locations: Locations | None = None
        """Where asynchronous requests may read and write (the server sets it when it runs the dispatcher)."""
        self.notification_webhooks: dict[str, str] = {}
        self.pipelines_refused_by: str | None = None
        """Set (to the backend's name) when the instance backend cannot run inference pipelines."""
        """SNS topic ARN → webhook URL (GREENFLEET_ALARM_ACTION_WEBHOOKS) for async notifications."""
        self.allowed_images: tuple[str, ...] = ("*",)
        """Image patterns models may use (the server's GREENFLEET_ALLOWED_IMAGES)."""
        """Instance ceilings checked when a config is created (the server sets them from its settings)."""

    # --- models ---------------------------------------------------------------------------------
    def create_model(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateModel", params)
        has_primary, containers = "PrimaryContainer" in params, params.get("Containers")
        if has_primary == bool(containers):
            raise ValidationError("Exactly one of PrimaryContainer or Containers must be given")
        listed: list[Doc] = [params["PrimaryContainer"]] if has_primary else list(containers or [])
        listed = self._resolve_packages(listed, has_primary)
        if not has_primary:
            check_pipeline(listed, params.get("InferenceExecutionConfig"))
        elif params.get("InferenceExecutionConfig"):
            raise ValidationError("InferenceExecutionConfig: applies to a model of Containers, not to a "
                                  "PrimaryContainer")
        for index, container in enumerate(listed):
            where = "PrimaryContainer" if has_primary else f"Containers.{index + 1}"
            if not container.get("Image"):
                raise ValidationError(f"{where}.Image: an image (or a ModelPackageName) is required")
            if not image_allowed(str(container["Image"]), self.allowed_images):
                raise ValidationError(f"{where}.Image: '{container['Image']}' is not allowed on this server "
                                      f"(GREENFLEET_ALLOWED_IMAGES: {', '.join(self.allowed_images)})")
        name = params["ModelName"]
        arn = self.arns.arn("model", name)
        spec = {k: v for k, v in params.items() if k != "Tags"}
        spec["PrimaryContainer" if has_primary else "Containers"] = listed[0] if has_primary else listed
        self.repo.insert_model({"name": name, "arn": arn, "spec": spec, "created_at": self.clock.now()})
        self.tags.put(arn, params.get("Tags", []))
        return {"ModelArn": arn}

    def _resolve_packages(self, listed: list[Doc], has_primary: bool) -> list[Doc]:
        resolved = []
        for index, container in enumerate(listed):
            where = "PrimaryContainer" if has_primary else f"Containers.{index + 1}"
            if container.get("ModelPackageName"):
                if self.package_container is None:
                    raise ValidationError(f"{where}.ModelPackageName: this server runs no model registry")
                container = self.package_container(container, where)
            resolved.append(container)
        return resolved

    def _model(self, name: str) -> Doc:
        row = self.repo.get_model(name)
        if row is None:
            raise ValidationError(f'Could not find model "{self.arns.arn("model", name)}".')
        return row

    def describe_model(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeModel", params)
        row = self._model(params["ModelName"])
        return {**row["spec"], "CreationTime": row["created_at"], "ModelArn": row["arn"]}

    def list_models(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListModels", params)
        items = [
            {"ModelName": r["name"], "ModelArn": r["arn"], "CreationTime": r["created_at"], "_name": r["name"]}
            for r in self.repo.list_models()
        ]
        chunk, token = page(items, params, "ModelName", SORT_NAME_TIME)
        return _with_token({"Models": [_public(i) for i in chunk]}, token)

    def delete_model(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteModel", params)
        row = self._model(params["ModelName"])
        self.repo.delete_model(row["name"])
        self.tags.delete_all(row["arn"])
        return {}

    # --- endpoint configurations -----------------------------------------------------------------
    def create_endpoint_config(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateEndpointConfig", params)
        self._check_serverless_exclusions(params)
        names = [n.lower() for n in _variant_names(params)]  # SageMaker compares variant names case-insensitively
        duplicates = sorted({n for n in _variant_names(params) if names.count(n.lower()) > 1})
        if duplicates:
            raise ValidationError(f"Variant names must be unique; duplicated: {', '.join(duplicates)} "
                                  "(names are compared case-insensitively)")
        variants = [dict(v) for v in params["ProductionVariants"]]
        shadows = [dict(v) for v in params.get("ShadowProductionVariants") or []]
        if shadows and (len(variants), len(shadows)) != (1, 1):
            raise ValidationError(
                "ShadowProductionVariants: an endpoint config with a shadow variant has exactly one variant in "
                f"ProductionVariants and one in ShadowProductionVariants (given {len(variants)} and {len(shadows)})")
        capture = params.get("DataCaptureConfig")
        if capture is not None:
            check_capture_config(capture, variants)
            capture = {"EnableCapture": True, **capture}
        for index, variant in enumerate(variants, start=1):
            self._check_variant(variant, f"ProductionVariants.{index}")
        for index, variant in enumerate(shadows, start=1):
            self._check_variant(variant, f"ShadowProductionVariants.{index}")
        if self.limits is not None:
            self.limits.check_variants(variants + shadows, "InitialInstanceCount",
                                       "ProductionVariants" + (" and ShadowProductionVariants" if shadows else ""))
        if params.get("AsyncInferenceConfig"):
            parse_async_config(params["AsyncInferenceConfig"], self.async_locations, self.notification_webhooks)
            for index, variant in enumerate(variants, start=1):
                execution = self._model(variant["ModelName"])["spec"].get("InferenceExecutionConfig") or {}
                if execution.get("Mode") == "Direct":
                    raise ValidationError(f"ProductionVariants.{index}: model {variant['ModelName']} invokes its "
                                          "containers directly (Mode Direct), which InvokeEndpointAsync cannot "
                                          "address; use a Serial pipeline for asynchronous inference")
        if all(v["InitialVariantWeight"] == 0 for v in variants):
            raise ValidationError("ProductionVariants: at least one InitialVariantWeight must be greater than 0")
        name = params["EndpointConfigName"]
        arn = self.arns.arn("endpoint_config", name)
        spec = {k: v for k, v in params.items() if k != "Tags"}
        spec["ProductionVariants"] = variants
        if shadows:
            spec["ShadowProductionVariants"] = shadows
        if capture is not None:
            spec["DataCaptureConfig"] = capture
        row = {"name": name, "arn": arn, "spec": spec, "created_at": self.clock.now()}
        self.repo.insert_endpoint_config(row)
        self.tags.put(arn, params.get("Tags", []))
        return {"EndpointConfigArn": arn}

    def _check_variant(self, variant: Doc, where: str) -> None:
        if not variant.get("ModelName"):
            raise ValidationError(f"{where}.ModelName: a model name is required")
        self._model(variant["ModelName"])
        if self.pipelines_refused_by and is_pipeline(self.model_container(variant["ModelName"])):
            raise ValidationError(f"{where}: model {variant['ModelName']} is an inference pipeline, which does not "
                                  f"run on the {self.pipelines_refused_by} instance backend yet (GREENFLEET_BACKEND)")
        serverless = variant.get("ServerlessConfig")
        if serverless and (variant.get("InstanceType") or variant.get("InitialInstanceCount")):
            raise ValidationError(f"{where}: ServerlessConfig cannot be combined with InstanceType or "
                                  "InitialInstanceCount")
        if serverless:
            self._check_serverless(variant, serverless, where)
        for member in ("InstanceType", "InitialInstanceCount"):
            if variant.get(member) is None and not serverless:
                raise ValidationError(f"{where}.{member}: required for an instance-based variant")
        variant.setdefault("InitialVariantWeight", 1.0)
        variant["InitialVariantWeight"] = float(variant["InitialVariantWeight"])
        variant.setdefault("RoutingConfig", {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"})

    @staticmethod
    def _check_serverless_exclusions(params: Doc) -> None:
        """What a serverless endpoint cannot have (SageMaker's documented exclusions): ValidationException."""
        variants = params.get("ProductionVariants") or []
        if not any(isinstance(v, dict) and v.get("ServerlessConfig") for v in variants):
            return
        if len(variants) > 1:
            raise ValidationError("ProductionVariants: a serverless endpoint has exactly one production variant "
                                  "(multiple production variants are not supported with ServerlessConfig)")
        # DataCaptureConfig on a serverless variant is refused by greenfleet.capture.config (check_capture_config)
        for member, what in (("ShadowProductionVariants", "shadow variants"),
                             ("AsyncInferenceConfig", "asynchronous inference"), ("KmsKeyId", "a KMS key")):
            if params.get(member):
                raise ValidationError(f"{member}: {what} is not supported with a serverless variant (ServerlessConfig)")

    def _check_serverless(self, variant: Doc, serverless: Doc, where: str) -> None:
        memory = serverless.get("MemorySizeInMB")
        if memory not in SERVERLESS_MEMORY_SIZES:
            raise ValidationError(f"Value '{memory}' at '{where}.ServerlessConfig.MemorySizeInMB' failed to "
                                  "satisfy constraint: Member must satisfy enum value set: "
                                  f"[{', '.join(map(str, SERVERLESS_MEMORY_SIZES))}]")
        concurrency = serverless.get("MaxConcurrency")
        if not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_SERVERLESS_CONCURRENCY:
            raise ValidationError(f"Value '{concurrency}' at '{where}.ServerlessConfig.MaxConcurrency' failed to "
                                  "satisfy constraint: Member must have value between 1 and "
                                  f"{MAX_SERVERLESS_CONCURRENCY}")
        provisioned = serverless.get("ProvisionedConcurrency")
        if provisioned is not None and not 1 <= provisioned <= concurrency:
            raise ValidationError(f"{where}.ServerlessConfig.ProvisionedConcurrency ({provisioned}) must be between 1 "
                                  f"and MaxConcurrency ({concurrency})")
        spec = self._model(variant["ModelName"])["spec"]
        if len(spec.get("Containers") or []) > 1 or spec.get("InferenceExecutionConfig"):
            raise ValidationError(f"{where}: model {variant['ModelName']} is an inference pipeline (several "
                                  "containers): not supported with ServerlessConfig")
        for member, what in (("VpcConfig", "a VPC"), ("EnableNetworkIsolation", "network isolation")):
            if spec.get(member):
                raise ValidationError(f"{where}: model {variant['ModelName']} has {member} ({what}): not supported "
                                      "with ServerlessConfig")
        if variant.get("AcceleratorType") or variant.get("ModelDataDownloadTimeoutInSeconds") is not None:
            raise ValidationError(f"{where}: AcceleratorType and ModelDataDownloadTimeoutInSeconds are not supported "
                                  "with ServerlessConfig")

    def endpoint_config(self, name: str) -> Doc:
        row = self.repo.get_endpoint_config(name)
        if row is None:
            raise ValidationError(f'Could not find endpoint configuration "{self.arns.arn("endpoint_config", name)}".')
        return row

    def describe_endpoint_config(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeEndpointConfig", params)
        row = self.endpoint_config(params["EndpointConfigName"])
        return {**row["spec"], "EndpointConfigArn": row["arn"], "CreationTime": row["created_at"]}

    def list_endpoint_configs(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListEndpointConfigs", params)
        items = [
            {"EndpointConfigName": r["name"], "EndpointConfigArn": r["arn"], "CreationTime": r["created_at"],
             "_name": r["name"]}
            for r in self.repo.list_endpoint_configs()
        ]
        chunk, token = page(items, params, "EndpointConfigName", SORT_NAME_TIME)
        return _with_token({"EndpointConfigs": [_public(i) for i in chunk]}, token)

    def delete_endpoint_config(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteEndpointConfig", params)
        row = self.endpoint_config(params["EndpointConfigName"])
        self.repo.delete_endpoint_config(row["name"])
        self.tags.delete_all(row["arn"])
        return {}

    def model_container(self, model_name: str) -> Doc:
        """What an instance of ``model_name`` runs (a snapshot, as SageMaker takes): its one container's
        definition, or for an inference pipeline the document ``pipeline_document`` makes."""
        spec = self._model(model_name)["spec"]
        containers = spec.get("Containers") or [spec["PrimaryContainer"]]
        if len(containers) == 1 and not spec.get("InferenceExecutionConfig"):
            return dict(containers[0])
        return pipeline_document(containers, spec.get("InferenceExecutionConfig"))


def _public(item: Doc) -> Doc:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _with_token(result: Doc, token: str | None) -> Doc:
    if token:
        result["NextToken"] = token
    return result
