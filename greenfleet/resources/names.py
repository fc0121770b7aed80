"""ARNs in SageMaker's form, with the account and region from the settings."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {"model": "model", "endpoint_config": "endpoint-config", "endpoint": "endpoint"}


@dataclass(frozen=True)
class ArnFactory:
    region: str
    account_id: str

    def arn(self, kind: str, name: str) -> str:
        # SageMaker lower-cases resource names in ARNs.
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{KINDS[kind]}/{name.lower()}"
