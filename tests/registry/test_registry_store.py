"""The registry's service and SQL on both stores (SQLite and PostgreSQL): monotonic versions, keyset pages
in every sort order, approvals with their audit trail and events in one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenfleet.clock import FakeClock
from greenfleet.errors import ValidationError
from greenfleet.events import EventService
from greenfleet.registry.artifacts import ArtifactStore
from greenfleet.registry.caller import CALLER
from greenfleet.registry.names import RegistryArns
from greenfleet.registry.packages import RegistryService
from greenfleet.registry.repository import RegistryRepository
from greenfleet.store.database import create_store_engine, migrate


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> RegistryService:
    engine = create_store_engine(database_url)
    migrate(engine)
    clock = FakeClock()
    return RegistryService(RegistryRepository(engine), RegistryArns("us-east-1", "000000000000"), clock,
                           EventService(engine, clock), ArtifactStore(tmp_path / "home", max_bytes=10**7))


def register(registry: RegistryService, source: Path, status: str = "PendingManualApproval") -> str:
    assert isinstance(registry.clock, FakeClock)
    registry.clock.advance(1)
    return str(registry.create_model_package({
        "ModelPackageGroupName": "g", "ModelApprovalStatus": status,
        "InferenceSpecification": {"Containers": [{"Image": "greenfleet/sklearn", "ModelDataUrl": str(source)}]},
    })["ModelPackageArn"])


def test_versions_pages_and_audit(registry: RegistryService, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    registry.create_model_package_group({"ModelPackageGroupName": "g"})
    for n in range(1, 8):
        register(registry, source, "Approved" if n % 2 else "PendingManualApproval")
    for order, expected in (("Ascending", list(range(1, 8))), ("Descending", list(range(7, 0, -1)))):
        for sort_by in ("CreationTime", "Name"):
            seen, token = [], None
            while True:
                page = registry.list_model_packages({"ModelPackageGroupName": "g", "SortBy": sort_by,
                                                     "SortOrder": order, "MaxResults": 3,
                                                     **({"NextToken": token} if token else {})})
                seen += [s["ModelPackageVersion"] for s in page["ModelPackageSummaryList"]]
                token = page.get("NextToken")
                if not token:
                    break
            assert seen == expected, (sort_by, order)
    latest = registry.list_model_packages({"ModelPackageGroupName": "g", "ModelApprovalStatus": "Approved",
                                           "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 1})
    assert [s["ModelPackageVersion"] for s in latest["ModelPackageSummaryList"]] == [7]
    with pytest.raises(ValidationError, match="Invalid NextToken"):
        registry.list_model_packages({"ModelPackageGroupName": "g", "NextToken": "garbage"})
    token = CALLER.set("ana")
    try:
        registry.update_model_package({"ModelPackageArn": registry.arns.version("g", 2),
                                       "ModelApprovalStatus": "Approved", "ApprovalDescription": "ok"})
    finally:
        CALLER.reset(token)
    trail = registry.repo.history(group="g", kinds=("approval",))
    assert [(h["version"], h["from_status"], h["to_status"], h["by"], h["reason"]) for h in trail] == [
        (2, "PendingManualApproval", "Approved", "ana", "ok")]
    registry.delete_model_package({"ModelPackageName": "g/7"})
    assert register(registry, source).endswith("/g/8")
    kinds = [e.detail_type for e in registry.events.log.query(limit=100)]  # type: ignore[attr-defined]
    assert kinds.count("SageMaker Model Package State Change") == 9


def test_the_dashboards_reads_newest_versions_and_counts(registry: RegistryService, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    registry.create_model_package_group({"ModelPackageGroupName": "g"})
    registry.create_model_package_group({"ModelPackageGroupName": "empty"})
    for n in range(1, 6):
        register(registry, source, "Approved" if n in (1, 4) else "PendingManualApproval")
    registry.update_model_package({"ModelPackageArn": registry.arns.version("g", 2), "ModelApprovalStatus": "Rejected"})
    newest = registry.repo.newest_versions("g", 3)
    assert [r["version"] for r in newest] == [5, 4, 3] and newest[0]["spec"]["InferenceSpecification"]
    assert registry.repo.version_counts() == {"g": {"Approved": 2, "Rejected": 1, "PendingManualApproval": 2}}
