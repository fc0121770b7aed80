"""Environments and promotion (issue 18): real greenfleet servers on 127.0.0.1, each with its own SQLite
store and artifact store, a version promoted dev → test → prod with its bytes checked on arrival, its
lineage, metrics and evidence carried, and a target that requires evidence before approval."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from greenfleet.cli.main import cli
from greenfleet.client import ApiError, Client
from greenfleet.registry.promotion import PromotionRefused, promote
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.aws.test_sagemaker_boto3 import client as boto_client
from tests.conftest import free_port
from tests.live.conftest import FAST

Servers = Callable[..., Server]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """Make servers named dev, test, prod…: each its own home (SQLite store, artifact store) and port."""
    started: list[Server] = []

    def make(name: str, **settings: Any) -> Server:
        instance = Server(Settings(home=tmp_path / name, port=free_port(), **{**FAST, **settings}))
        instance.start_in_thread()
        started.append(instance)
        return instance

    yield make
    for instance in started:
        instance.stop_thread()


def url(server: Server) -> str:
    return server.settings.base_url


def approved_version(dev: Server, tmp_path: Path, group: str = "churn") -> str:
    """Register an Approved version on ``dev`` with lineage, metadata and a metrics report."""
    model = tmp_path / "model-dir"
    model.mkdir(exist_ok=True)
    (model / "model.joblib").write_bytes(b"weights of a model " * 100)
    report = tmp_path / "eval.json"
    report.write_text(json.dumps({"metrics": {"accuracy": {"value": 0.91}}}))
    run("--url", url(dev), "registry", "group", "create", group, "--description", "churn model")
    out = run("--url", url(dev), "registry", "register", group, str(model), "--image", "greenfleet/sklearn",
              "--commit", "c0ffee", "--meta", "dataset=s3://data/v1", "--metrics", str(report), "--approve",
              "--by", "ana", "--json")
    return str(json.loads(out.output)["ModelPackageArn"])


def run(*args: str, ok: bool = True) -> Result:
    """The CLI; ``--url`` (the first two arguments when given) goes after the command's own arguments."""
    given = list(args)
    if given[:1] == ["--url"]:
        given = [*given[2:], "--url", given[1]]
    result = CliRunner().invoke(cli, given)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def group_names(server: Server) -> list[str]:
    with Client(url(server)) as c:
        return [g["ModelPackageGroupName"] for g in c.list_model_package_groups()["ModelPackageGroupSummaryList"]]


def kept_files(server: Server) -> list[Path]:
    root = server.settings.home / "registry" / "artifacts"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.slow
@pytest.mark.parallel
def test_promote_dev_test_prod_with_required_evidence(servers: Servers, tmp_path: Path) -> None:
    dev = servers("dev")
    test = servers("test", registry_required_evidence="integration,load")
    prod = servers("prod", registry_required_evidence="integration,load")
    source_arn = approved_version(dev, tmp_path)
    with Client(url(dev)) as c:
        sha = c.describe_model_package(ModelPackageName="churn/1")["GreenfleetArtifact"]["Sha256"]

    # dev -> test: arrives PendingManualApproval with its provenance; the group is created
    out = run("promote", "churn/1", "--from", url(dev), "--to", url(test), "--by", "ci", "--json").output
    answer = json.loads(out)
    assert answer == {"ModelPackageArn": answer["ModelPackageArn"], "SourceModelPackageArn": source_arn,
                      "ArtifactDigest": sha, "Created": True}
    with Client(url(test)) as c:
        copy = c.describe_model_package(ModelPackageName="churn/1")
        assert c.describe_model_package_group(ModelPackageGroupName="churn")["ModelPackageGroupDescription"] \
            == "churn model"
    assert copy["ModelPackageArn"] == answer["ModelPackageArn"]
    assert copy["ModelApprovalStatus"] == "PendingManualApproval"
    assert copy["GreenfleetArtifact"]["Sha256"] == sha
    assert Path(copy["GreenfleetArtifact"]["Uri"]).is_relative_to(test.settings.home)
    assert copy["MetadataProperties"]["CommitId"] == "c0ffee"
    assert copy["CustomerMetadataProperties"]["dataset"] == "s3://data/v1"
    assert copy["CustomerMetadataProperties"]["greenfleet:promoted-from-arn"] == source_arn
    assert copy["CustomerMetadataProperties"]["greenfleet:promoted-from-url"] == url(dev)
    assert copy["CustomerMetadataProperties"]["greenfleet:promoted-from-sha256"] == sha
    assert copy["GreenfleetPromotion"]["PromotedBy"] == "ci"
    metrics = json.dumps(copy["GreenfleetMetrics"])
    assert "0.91" in metrics
    described = run("--url", url(test), "registry", "describe", "churn/1").output
    assert "PendingManualApproval" in described and sha[:12] in described and "Promoted" in described
    assert url(dev) in described and source_arn in described

    # the target requires evidence: approval is refused naming what is missing or failed
    refused = run("--url", url(test), "registry", "approve", "churn/1", ok=False)
    assert refused.exit_code == 1
    assert "ValidationException" in refused.output and "integration (no evidence)" in refused.output \
        and "load (no evidence)" in refused.output
    run("--url", url(test), "registry", "evidence", "add", "churn/1", "--check", "integration", "--status",
        "Passed", "--detail", "cases=40", "--by", "qa")
    run("--url", url(test), "registry", "evidence", "add", "churn/1", "--check", "load", "--status", "Failed",
        "--detail", "p99_ms=420", "--report-url", "https://ci.example/load/1")
    refused = run("--url", url(test), "registry", "approve", "churn/1", ok=False)
    assert "load (Failed)" in refused.output and "integration" not in refused.output.split("missing or failed:")[1]
    sm = boto_client(test, "sagemaker")  # the wire protocol refuses the same way
    with pytest.raises(Exception, match="load \\(Failed\\)") as caught:
        sm.update_model_package(ModelPackageArn=copy["ModelPackageArn"], ModelApprovalStatus="Approved")
    assert caught.value.response["Error"]["Code"] == "ValidationException"  # type: ignore[attr-defined]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # type: ignore[attr-defined]
    run("--url", url(test), "registry", "evidence", "add", "churn/1", "--check", "load", "--status", "Passed",
        "--detail", "p99_ms=80")
    listed = run("--url", url(test), "registry", "evidence", "list", "churn/1").output
    assert "integration" in listed and "p99_ms=420" in listed and "p99_ms=80" in listed and "qa" in listed
    run("--url", url(test), "registry", "approve", "churn/1", "--by", "lead")
    trail = run("--url", url(test), "registry", "history", "churn").output
    assert "evidence" in trail and "load: Failed" in trail and "promoted from" in trail

    # test -> prod: the evidence travels, so prod's own gate is met by the checks run in test
    with Client(url(test)) as source, Client(url(prod)) as target:
        second = promote(source, target, "churn/1", by="release")
        carried = target.list_model_package_evidence(ModelPackageName="churn/1")
        prod_copy = target.describe_model_package(ModelPackageName="churn/1")
    assert second["Created"] and second["ArtifactDigest"] == sha
    assert [(e["Check"], e["Status"]) for e in carried["Evidence"]] == [
        ("integration", "Passed"), ("load", "Failed"), ("load", "Passed")]
    assert carried["MissingChecks"] == [] and carried["RequiredChecks"] == ["integration", "load"]
    assert carried["Evidence"][0]["By"] == "qa"
    assert carried["Evidence"][0]["PromotedFrom"]["SourceUrl"] == url(test)
    assert prod_copy["GreenfleetPromotion"]["SourceUrl"] == url(test)
    assert prod_copy["GreenfleetPromotion"]["Earlier"][0]["SourceUrl"] == url(dev)
    assert prod_copy["MetadataProperties"]["CommitId"] == "c0ffee"
    wire = boto_client(prod, "sagemaker").describe_model_package(ModelPackageName=prod_copy["ModelPackageArn"])
    assert wire["CustomerMetadataProperties"]["greenfleet:promoted-from-arn"] == copy["ModelPackageArn"]
    assert wire["ModelApprovalStatus"] == "PendingManualApproval"
    run("--url", url(prod), "registry", "approve", "churn/1", "--by", "release-manager")
    kept = [p for p in kept_files(prod) if "sha256" in p.parts]
    assert [p.name for p in kept] == [f"{sha}.tar.gz"]
    assert kept[0].read_bytes() == Path(copy["GreenfleetArtifact"]["Uri"]).read_bytes()


def test_promoting_twice_makes_one_copy(servers: Servers, tmp_path: Path) -> None:
    dev, prod = servers("dev"), servers("prod")
    approved_version(dev, tmp_path)
    first = run("promote", "churn/1", "--from", url(dev), "--to", url(prod)).output
    again = run("promote", "churn/1", "--from", url(dev) + "/", "--to", url(prod)).output
    assert first.startswith("Promoted ") and again.startswith("Already promoted ")
    with Client(url(prod)) as c:
        versions = c.list_model_packages(ModelPackageGroupName="churn")["ModelPackageSummaryList"]
        history = c.model_package_history(ModelPackageGroupName="churn")["History"]
    assert len(versions) == 1
    assert [h["Kind"] for h in history] == ["created"]


def test_a_repeated_promotion_is_answered_by_the_target_without_moving_the_artifact(servers: Servers,
                                                                                    tmp_path: Path) -> None:
    dev, prod = servers("dev"), servers("prod")
    approved_version(dev, tmp_path)
    with Client(url(dev)) as source, Client(url(prod)) as target:
        described = source.describe_model_package(ModelPackageName="churn/1")
        manifest = {"SourceUrl": url(dev), "ArtifactSha256": described["GreenfleetArtifact"]["Sha256"],
                    "SourceModelPackage": described, "Evidence": []}
        with pytest.raises(ApiError) as caught:  # the manifest alone, before any copy: not there yet
            target.import_model_package(Manifest=manifest)
        assert caught.value.code == "ResourceNotFound" and "send its model.tar.gz" in caught.value.message
        assert group_names(prod) == [] and kept_files(prod) == []
        first = promote(source, target, "churn/1", by="ci")
        Path(described["GreenfleetArtifact"]["Uri"]).unlink()  # the source could not serve the bytes again
        again = promote(source, target, "churn/1", by="ci")
        assert target.import_model_package(Manifest=manifest) == again
    assert first["Created"] is True and again["Created"] is False
    assert again["ModelPackageArn"] == first["ModelPackageArn"]


def test_a_target_from_before_the_manifest_only_request_still_gets_the_bytes(servers: Servers,
                                                                             tmp_path: Path) -> None:
    """A target that does not know the manifest-only request refuses it as a body without an archive: promote
    then sends the archive, as it did before."""
    import httpx

    dev = servers("dev")
    approved_version(dev, tmp_path)
    bodies: list[int] = []

    def older_target(request: httpx.Request) -> httpx.Response:
        manifest_bytes = int(request.headers["X-Greenfleet-Manifest-Bytes"])
        archive = len(request.read()) - manifest_bytes
        bodies.append(archive)
        if archive == 0:
            return httpx.Response(400, headers={"x-amzn-ErrorType": "ValidationException"}, json={
                "__type": "ValidationException", "message": "The body holds no model.tar.gz after the manifest"})
        return httpx.Response(200, json={"ModelPackageArn": "arn:copy", "Created": True})

    with Client(url(dev)) as source, Client("http://older", transport=httpx.MockTransport(older_target)) as target:
        assert promote(source, target, "churn/1", by="ci") == {"ModelPackageArn": "arn:copy", "Created": True}
    assert bodies[0] == 0 and bodies[1] > 0 and len(bodies) == 2


def test_refusals_leave_nothing_on_the_target(servers: Servers, tmp_path: Path) -> None:
    dev, prod = servers("dev"), servers("prod", api_token="prod-secret")
    approved_version(dev, tmp_path)
    model = tmp_path / "model-dir"
    run("--url", url(dev), "registry", "register", "churn", str(model), "--image", "greenfleet/sklearn")

    pending = run("promote", "churn/2", "--from", url(dev), "--to", url(prod), "--to-token", "prod-secret", ok=False)
    assert pending.exit_code == 1 and "only an Approved version is promoted" in pending.output
    no_token = run("promote", "churn/1", "--from", url(dev), "--to", url(prod), ok=False)
    assert f"target {url(prod)}" in no_token.output and "UnauthorizedException" in no_token.output
    wrong = run("promote", "churn/1", "--from", url(dev), "--to", url(prod), "--to-token", "guess", ok=False)
    assert "UnauthorizedException" in wrong.output
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = run("promote", "churn/1", "--from", nobody, "--to", url(prod), ok=False)
    assert f"source {nobody}" in unreachable.output and "cannot reach greenfleet" in unreachable.output
    missing = run("promote", "churn/7", "--from", url(dev), "--to", url(prod), ok=False)
    assert "does not exist" in missing.output
    with Client(url(prod), token="prod-secret") as c:
        assert c.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert kept_files(prod) == []
    done = run("promote", "churn/1", "--from", url(dev), "--to", url(prod), "--to-token", "prod-secret", "--json")
    assert json.loads(done.output)["Created"] is True


def test_a_tampered_artifact_is_refused_on_arrival(servers: Servers, tmp_path: Path) -> None:
    dev, prod = servers("dev"), servers("prod")
    approved_version(dev, tmp_path)
    with Client(url(dev)) as c:
        artifact = c.describe_model_package(ModelPackageName="churn/1")["GreenfleetArtifact"]
    stored = Path(artifact["Uri"])
    original = stored.read_bytes()
    stored.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # one bit changed in the source's store

    refused = run("promote", "churn/1", "--from", url(dev), "--to", url(prod), ok=False)
    assert "artifact digest mismatch" in refused.output and artifact["Sha256"] in refused.output
    assert group_names(prod) == [] and kept_files(prod) == []

    # a client that skips its own check meets the target's: the bytes must have the digest they are sent as
    with Client(url(dev)) as source, Client(url(prod)) as target:
        manifest = {"SourceUrl": url(dev), "ArtifactSha256": artifact["Sha256"],
                    "SourceModelPackage": source.describe_model_package(ModelPackageName="churn/1"), "Evidence": []}
        with pytest.raises(ApiError) as caught:
            target.import_model_package(Manifest=manifest, Artifact=stored)
    assert caught.value.status == 400 and caught.value.code == "ValidationException"
    assert "digest mismatch" in caught.value.message and "nothing was kept" in caught.value.message
    assert group_names(prod) == [] and kept_files(prod) == []

    stored.write_bytes(original)  # repaired: the same promotion goes through
    with Client(url(dev)) as source, Client(url(prod)) as target:
        assert promote(source, target, "churn/1", by="ci")["Created"]


def test_import_refuses_a_bad_manifest_before_keeping_anything(servers: Servers, tmp_path: Path) -> None:
    dev, prod = servers("dev"), servers("prod")
    approved_version(dev, tmp_path)
    with Client(url(dev)) as source, Client(url(prod)) as target:
        described = source.describe_model_package(ModelPackageName="churn/1")
        archive = tmp_path / "a.tar.gz"
        source.get_model_package_artifact(ModelPackageName="churn/1", Destination=archive)
        good = {"SourceUrl": url(dev), "ArtifactSha256": described["GreenfleetArtifact"]["Sha256"],
                "SourceModelPackage": described, "Evidence": []}
        cases = [({**good, "SourceModelPackage": {**described, "ModelApprovalStatus": "Rejected"}},
                  "only an Approved version"),
                 ({**good, "ArtifactSha256": "0" * 64}, "must be the sha256 the source registry recorded"),
                 ({**good, "Evidence": [{"Check": "load", "Status": "Maybe"}]}, "must be one of Passed, Failed"),
                 ({**good, "Extra": 1}, "Unknown promotion manifest member"),
                 ({**good, "SourceUrl": "ftp://x"}, "SourceUrl")]
        for manifest, message in cases:
            with pytest.raises(ApiError, match=message):
                target.import_model_package(Manifest=manifest, Artifact=archive)
        assert target.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
        with pytest.raises(PromotionRefused, match="only an Approved"):
            source.update_model_package(ModelPackageArn=described["ModelPackageArn"], ModelApprovalStatus="Rejected")
            promote(source, target, "churn/1", by="ci")
    assert kept_files(prod) == []


def test_evidence_is_validated_and_kept_in_the_audit_trail(servers: Servers, tmp_path: Path) -> None:
    prod = servers("prod", registry_required_evidence="integration")
    model = tmp_path / "m"
    model.mkdir()
    (model / "model.joblib").write_bytes(b"x")
    with Client(url(prod)) as c:
        c.create_model_package_group(ModelPackageGroupName="g")
        spec = {"Containers": [{"Image": "greenfleet/sklearn", "ModelDataUrl": str(model)}]}
        with pytest.raises(ApiError, match="register the version PendingManualApproval first") as caught:
            c.create_model_package(ModelPackageGroupName="g", InferenceSpecification=spec,
                                   ModelApprovalStatus="Approved")
        assert caught.value.status == 400
        assert c.list_model_packages(ModelPackageGroupName="g")["ModelPackageSummaryList"] == []
        c.create_model_package(ModelPackageGroupName="g", InferenceSpecification=spec)
        for bad, message in (({"Check": "integration", "Status": "Ok"}, "must be one of Passed, Failed"),
                             ({"Check": "no spaces", "Status": "Passed"}, "is not a check name"),
                             ({"Check": "integration", "Status": "Passed", "Detail": {"n": 3}}, "Detail"),
                             ({"Check": "integration", "Status": "Passed", "Verdict": "x"}, "Unknown evidence")):
            with pytest.raises(ApiError, match=message):
                c.put_model_package_evidence(ModelPackageName="g/1", **bad)
        recorded = c.put_model_package_evidence(ModelPackageName="g/1", by="qa", Check="integration",
                                                Status="Passed", Detail={"cases": "12"})
        assert recorded["Check"] == "integration" and recorded["Sequence"] > 0
        c.update_model_package(ModelPackageArn="g/1", ModelApprovalStatus="Approved", by="lead")
        trail = c.model_package_history(ModelPackageGroupName="g")["History"]
    assert [(h["Kind"], h["By"]) for h in trail] == [("created", "anonymous"), ("evidence", "qa"),
                                                    ("approval", "lead")]
    assert trail[1]["Detail"] == {"Check": "integration", "Status": "Passed", "Detail": {"cases": "12"}}


def test_a_bad_required_evidence_setting_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a check name"):
        Settings(home=tmp_path, registry_required_evidence="integration, load test")


@pytest.mark.slow
@pytest.mark.parallel
def test_promote_between_servers_keeping_artifacts_in_s3(servers: Servers, tmp_path: Path) -> None:
    from tests.artifacts.s3 import moto_s3

    with moto_s3() as endpoint:
        import boto3

        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="registry")
        dev = servers("dev", s3_endpoint_url=endpoint, registry_s3_uri="s3://registry/dev")
        prod = servers("prod", s3_endpoint_url=endpoint, registry_s3_uri="s3://registry/prod")
        approved_version(dev, tmp_path)
        with Client(url(dev)) as source, Client(url(prod)) as target:
            sha = source.describe_model_package(ModelPackageName="churn/1")["GreenfleetArtifact"]["Sha256"]
            assert promote(source, target, "churn/1", by="ci")["ArtifactDigest"] == sha
            copy = target.describe_model_package(ModelPackageName="churn/1")
        assert copy["GreenfleetArtifact"]["Uri"] == f"s3://registry/prod/sha256/{sha}.tar.gz"
        body = s3.get_object(Bucket="registry", Key=f"prod/sha256/{sha}.tar.gz")["Body"].read()
        assert body == s3.get_object(Bucket="registry", Key=f"dev/sha256/{sha}.tar.gz")["Body"].read()
        staging = dev.settings.home / "registry" / "artifacts" / "staging"
        deadline = time.monotonic() + 5  # removed by the response's background task, after the last byte
        while [p for p in staging.rglob("*") if p.is_file()] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in staging.rglob("*") if p.is_file()]  # the source's downloaded copy is gone


def test_concurrent_promotions_into_a_new_group(servers: Servers, tmp_path: Path) -> None:
    dev, prod = servers("dev"), servers("prod")
    approved_version(dev, tmp_path)
    (tmp_path / "model-dir" / "model.joblib").write_bytes(b"another model")
    run("--url", url(dev), "registry", "register", "churn", str(tmp_path / "model-dir"), "--image",
        "greenfleet/sklearn", "--approve")

    def one(version: str) -> dict[str, Any]:
        with Client(url(dev)) as source, Client(url(prod)) as target:
            return promote(source, target, version, by="ci")

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, ["churn/1", "churn/2", "churn/1", "churn/2"]))
    assert {a["ModelPackageArn"] for a in answers[::2]} == {answers[0]["ModelPackageArn"]}
    assert {a["ModelPackageArn"] for a in answers[1::2]} == {answers[1]["ModelPackageArn"]}
    with Client(url(prod)) as c:
        assert len(c.list_model_packages(ModelPackageGroupName="churn")["ModelPackageSummaryList"]) == 2
