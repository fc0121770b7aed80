"""AddTags, ListTags, DeleteTags on any resource ARN."""

from __future__ import annotations

from typing import Any

from greenfleet.resources.servicemodel import validate_input
from greenfleet.services.listing import page
from greenfleet.store.repository import Repository

Doc = dict[str, Any]
MAX_TAGS = 50


class TagService:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def put(self, arn: str, tags: list[Doc]) -> None:
        if tags:
            self.repo.put_tags(arn, {t["Key"]: t.get("Value", "") for t in tags})

    def delete_all(self, arn: str) -> None:
        self.repo.delete_tags(arn)

    def add_tags(self, params: Doc) -> Doc:
        validate_input("sagemaker", "AddTags", params)
        self.put(params["ResourceArn"], params["Tags"])
        return {"Tags": params["Tags"]}

    def list_tags(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListTags", params)
        tags = [{"Key": k, "Value": v, "_name": k} for k, v in self.repo.get_tags(params["ResourceArn"]).items()]
        chunk, token = page(tags, {**params, "SortOrder": "Ascending"}, "Key", {"Name": lambda t: t["Key"]},
                            default_sort="Name")
        result: Doc = {"Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in chunk]}
        if token:
            result["NextToken"] = token
        return result

    def delete_tags(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteTags", params)
        self.repo.delete_tags(params["ResourceArn"], list(params["TagKeys"]))
        return {}
