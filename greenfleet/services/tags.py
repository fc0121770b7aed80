"""AddTags, ListTags, DeleteTags on the ARN of a model, endpoint config, endpoint or a resource another
service registers in ``owners`` (inference experiments: ``experiments/service.py``); at most 50 tags per
resource, ListTags pages of 50 by default (SageMaker's limits). SageMaker writes resource names in ARNs in
lower case; an ARN naming one in another case names the same resource."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from greenfleet.errors import ValidationError
from greenfleet.resources.servicemodel import validate_input
from greenfleet.services.listing import page
from greenfleet.store.repository import Repository

Doc = dict[str, Any]
MAX_TAGS = 50
LIST_TAGS_PAGE = 50
_RESOURCE_ARN = re.compile(
    r"(arn:aws[a-z-]*:sagemaker:[^:]*:[^:]*:(?:model|endpoint-config|endpoint|inference-experiment)/)(.+)")


def canonical_arn(arn: str) -> str:
    """A model, endpoint config, endpoint or inference experiment ARN as SageMaker writes it (the name in
    lower case)."""
    found = _RESOURCE_ARN.fullmatch(arn)
    return found.group(1) + found.group(2).lower() if found else arn


class TagService:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.owners: list[Callable[[str], bool]] = [repo.resource_exists]
        """Whether a resource has this (canonical) ARN: the store's models, configs and endpoints, and what
        other services add."""

    def put(self, arn: str, tags: list[Doc]) -> None:
        if tags:
            self.repo.put_tags(arn, {t["Key"]: t.get("Value", "") for t in tags})

    def delete_all(self, arn: str) -> None:
        self.repo.delete_tags(arn)

    def add_tags(self, params: Doc) -> Doc:
        validate_input("sagemaker", "AddTags", params)
        arn = canonical_arn(params["ResourceArn"])
        if not any(exists(arn) for exists in self.owners):
            raise ValidationError(f'Could not find resource "{arn}".')
        keys = set(self.repo.get_tags(arn)) | {t["Key"] for t in params["Tags"]}
        if len(keys) > MAX_TAGS:
            raise ValidationError(f'Resource "{arn}" would have {len(keys)} tags; a resource may have at most '
                                  f"{MAX_TAGS}.")
        self.put(arn, params["Tags"])
        return {"Tags": params["Tags"]}

    def list_tags(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListTags", params)
        stored = self.repo.get_tags(canonical_arn(params["ResourceArn"]))
        tags = [{"Key": k, "Value": v, "_name": k} for k, v in stored.items()]
        chunk, token = page(tags, {"MaxResults": LIST_TAGS_PAGE, **params, "SortOrder": "Ascending"}, "Key",
                            {"Name": lambda t: t["Key"]}, default_sort="Name")
        result: Doc = {"Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in chunk]}
        if token:
            result["NextToken"] = token
        return result

    def delete_tags(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteTags", params)
        self.repo.delete_tags(canonical_arn(params["ResourceArn"]), list(params["TagKeys"]))
        return {}
