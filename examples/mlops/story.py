"""The story, step by step: v1 from dev to live in prod, a worse v2 stopped by a shadow test, a faulty v3
rolled back by the canary's guardrails, drift caught by monitoring. Every outcome recorded is read back from
the servers' APIs."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from environments import DRIFT_ALARM, ENDPOINT, GROUP, SCHEDULE
from models import Dataset, Trained, csv_line, sample_payloads
from steps import Record, wait_for
from traffic import Traffic, row_of

from greenfleet import Client
from greenfleet.registry.promotion import promote

__all__ = ["Story"]

Doc = dict[str, Any]
DEV_GATE = 0.85
"""The dev pipeline's condition step: a version evaluating at least this accurate is registered Approved."""
MIN_AGREEMENT = 0.95
"""A challenger must agree with the champion on at least this share of live requests (and not be less
accurate) to be approved in prod."""


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Story:
    def __init__(self, dev: Client, prod: Client, dev_url: str, prod_url: str, data: Dataset, workdir: Path,
                 record: Record, traffic: Traffic) -> None:
        self.dev, self.prod, self.dev_url, self.prod_url = dev, prod, dev_url, prod_url
        self.data, self.workdir, self.record, self.traffic = data, workdir, record, traffic
        self.commit = _commit()

    # --- helpers --------------------------------------------------------------------------------------
    def _package(self, client: Client, version: int) -> Doc:
        return client.describe_model_package(ModelPackageName=f"{GROUP}/{version}")

    def _settled(self, client: Client, env: str) -> Doc | None:
        binding = client.describe_registry_binding(EndpointName=ENDPOINT[env])
        endpoint = client.describe_endpoint(EndpointName=ENDPOINT[env])
        if binding.get("Deploying") or endpoint["EndpointStatus"] != "InService":
            return None
        return binding

    def _deployment_to(self, client: Client, env: str, version: int, timeout_s: float) -> Doc:
        """The binding's deployment of ``version`` once it has ended (its outcome recorded on the version)."""
        def ended() -> Doc | None:
            outcomes = self._package(client, version).get("GreenfleetDeployments") or []
            return outcomes[-1] if outcomes and self._settled(client, env) else None
        outcome = wait_for(ended, timeout_s, f"the deployment of {GROUP}/{version} in {env}")
        deployment = client.describe_deployment(EndpointName=ENDPOINT[env],
                                                DeploymentId=outcome["Detail"]["DeploymentId"])
        return {"outcome": outcome, "deployment": deployment}

    def _approver(self, client: Client, version: int, status: str) -> str | None:
        trail = client.model_package_history(ModelPackageGroupName=GROUP, ModelPackageVersion=version)["History"]
        found = [h for h in trail if h["Kind"] in ("approval", "created") and h.get("ToStatus") == status]
        return str(found[-1]["By"]) if found else None

    # --- steps ----------------------------------------------------------------------------------------
    def register_in_dev(self, model: Trained, version: int) -> None:
        """The dev pipeline's register step: Approved when the evaluation passes the gate (the condition step)."""
        status = "Approved" if model.accuracy >= DEV_GATE else "PendingManualApproval"
        arn = self.dev.create_model_package(
            by="dev-pipeline", ModelPackageGroupName=GROUP, ModelPackageDescription=model.description,
            InferenceSpecification={"Containers": [{"Image": model.image, "ModelDataUrl": str(model.archive)}],
                                    "SupportedContentTypes": ["text/csv"],
                                    "SupportedResponseMIMETypes": ["application/json"]},
            ModelApprovalStatus=status,
            MetadataProperties={"CommitId": self.commit, "GeneratedBy": "examples/mlops/run.py"},
            CustomerMetadataProperties={"dataset": "sklearn.datasets.load_breast_cancer", "model": model.version,
                                        "gate": f"accuracy {model.accuracy:.3f} vs {DEV_GATE}",
                                        **{f"param.{k}": v for k, v in model.hyperparameters.items()}},
            ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                          "S3Uri": model.evaluation.as_uri()}}})["ModelPackageArn"]
        described = self._package(self.dev, version)
        assert described["ModelPackageArn"] == arn, (arn, described["ModelPackageArn"])
        self.record.step(
            f"{model.version} trained and registered in dev", "dev", described["ModelApprovalStatus"], "Approved",
            f"{model.description}; hold-out accuracy {model.accuracy:.3f}; the dev pipeline approves a version at "
            f"{DEV_GATE} or better", package=arn, accuracy=model.accuracy, approved_by=self._approver(
                self.dev, version, "Approved"), digest=(described.get("GreenfleetArtifact") or {}).get("Sha256"))

    def deployed_in_dev(self, model: Trained, version: int) -> None:
        ended = self._deployment_to(self.dev, "dev", version, 90)
        champion = self.dev.describe_registry_binding(EndpointName=ENDPOINT["dev"])["Champion"]
        self.record.step(f"{model.version} deployed in dev", "dev", str(ended["outcome"]["ToStatus"]), "SUCCEEDED",
                         "dev's binding deploys every approved version, all at once", champion=champion,
                         deployment=ended["outcome"]["Detail"]["DeploymentId"])

    def checks_in_dev(self, model: Trained, version: int) -> None:
        """Dev's integration and load checks against the deployed version, recorded as its evidence (prod
        requires both Passed before it accepts an approval; the evidence travels with the promotion)."""
        samples = sample_payloads(self.data)
        url = f"/endpoints/{ENDPOINT['dev']}/invocations"
        headers = {"Content-Type": "text/csv"}
        with httpx.Client(base_url=self.dev_url, timeout=30) as http:
            answers = [(http.post(url, content=csv_line(row), headers=headers), label) for row, label in samples]
            answered = [(r.json()["predictions"][0], label) for r, label in answers if r.status_code == 200]
            correct = sum(1 for predicted, label in answered if predicted == label)
            passed = len(answered) == len(samples) and correct >= 0.8 * len(samples)
            self.dev.put_model_package_evidence(
                f"{GROUP}/{version}", by="dev-pipeline", Check="integration", Status="Passed" if passed else "Failed",
                Detail={"payloads": str(len(samples)), "answered": str(len(answered)), "correct": str(correct)})
            latencies, errors = [], 0
            for index in range(200):
                row, _ = samples[index % len(samples)]
                started = time.perf_counter()
                status = http.post(url, content=csv_line(row), headers=headers).status_code
                latencies.append((time.perf_counter() - started) * 1000)
                errors += int(status != 200)
        p99 = float(np.percentile(latencies, 99))
        self.dev.put_model_package_evidence(
            f"{GROUP}/{version}", by="dev-pipeline", Check="load",
            Status="Passed" if errors <= 2 and p99 <= 1000 else "Failed",
            Detail={"requests": "200", "errors": str(errors), "p99_ms": f"{p99:.1f}",
                    "limits": "errors<=1%,p99<=1000ms"})
        evidence = self._evidence(self.dev, version)
        self.record.step(
            f"{model.version} checked in dev", "dev", ", ".join(f"{e['Check']} {e['Status']}" for e in evidence),
            "integration Passed, load Passed", "integration: the typical payloads of each class answered and "
            "classified; load: 200 requests, at most 1 % errors and a p99 of 1 s (generous: a shared machine)",
            evidence=[{"check": e["Check"], "status": e["Status"], **(e.get("Detail") or {})} for e in evidence])

    def _evidence(self, client: Client, version: int) -> list[Doc]:
        """The newest evidence per check, by check name."""
        newest: dict[str, Doc] = {}
        for entry in client.list_model_package_evidence(ModelPackageName=f"{GROUP}/{version}")["Evidence"]:
            if entry["Check"] not in newest or entry["Time"] >= newest[entry["Check"]]["Time"]:
                newest[entry["Check"]] = entry
        return [newest[k] for k in sorted(newest)]

    def promote_to_prod(self, model: Trained, version: int) -> int:
        answer = promote(self.dev, self.prod, f"{GROUP}/{version}", "release-pipeline")
        target_version = int(str(answer["ModelPackageArn"]).rsplit("/", 1)[-1])
        described = self._package(self.prod, target_version)
        source = self._package(self.dev, version)
        self.record.step(
            f"{model.version} promoted to prod", "prod", described["ModelApprovalStatus"], "PendingManualApproval",
            "promotion copies an approved version with its lineage, metrics and digest; prod decides on its own",
            package=answer["ModelPackageArn"], source=answer.get("SourceModelPackageArn"),
            digest=answer.get("ArtifactDigest"), created=answer.get("Created"),
            evidence_carried=[f"{e['Check']} {e['Status']}" for e in self._evidence(self.prod, target_version)],
            same_digest=(described.get("GreenfleetArtifact") or {}).get("Sha256") ==
            (source.get("GreenfleetArtifact") or {}).get("Sha256"),
            promoted_from={k: v for k, v in (described.get("CustomerMetadataProperties") or {}).items()
                           if k.startswith("greenfleet:promoted")})
        return target_version

    def approve_in_prod(self, model: Trained, version: int, reason: str) -> None:
        self.prod.update_model_package(f"{GROUP}/{version}", by="release-manager", ModelApprovalStatus="Approved",
                                       ApprovalDescription=reason)
        described = self._package(self.prod, version)
        required = self.prod.list_model_package_evidence(ModelPackageName=f"{GROUP}/{version}")["RequiredChecks"]
        self.record.step(f"{model.version} approved in prod", "prod", described["ModelApprovalStatus"], "Approved",
                         f"{reason} (prod requires the evidence {', '.join(required)} Passed)",
                         approved_by=self._approver(self.prod, version, "Approved"), required_evidence=required)

    def canary(self, model: Trained, version: int, expected: str) -> Doc:
        self.traffic.phase = f"canary-{model.version}"
        ended = self._deployment_to(self.prod, "prod", version, 120)
        deployment = ended["deployment"]
        judge = (deployment.get("Rollout") or {}).get("Judge") or {}
        judgement = judge.get("LastJudgement") or judge.get("Latest") or {}
        time.sleep(1.0)
        load = self.traffic.counts(self.traffic.phase)
        self.traffic.phase = "steady"
        champion = self.prod.describe_registry_binding(EndpointName=ENDPOINT["prod"])["Champion"]
        status = self._package(self.prod, version)["ModelApprovalStatus"]
        outcome = str(ended["outcome"]["ToStatus"])
        why = ("25 % of live traffic on the new version, judged against a fresh copy of the old one; all of it once "
               "the judge passed" if outcome == "SUCCEEDED" else
               f"rolled back on its own: {ended['outcome'].get('Reason') or deployment.get('FailureReason')}")
        self.record.step(
            f"{model.version} canary under load in prod", "prod", outcome, expected, why,
            deployment=deployment.get("DeploymentId"), failure_reason=deployment.get("FailureReason"),
            judge_decision=judgement.get("decision"), judge_reason=judgement.get("reason"),
            judge_metrics=[{k: m.get(k) for k in ("name", "verdict", "control_n", "experiment_n", "control_value",
                                                  "experiment_value")} for m in judgement.get("metrics", [])],
            timeline=[e["Message"] for e in deployment.get("Timeline", [])], load=load, champion_after=champion,
            approval_after=status, approval_after_by=self._approver(self.prod, version, status))
        return ended

    def shadow_test(self, model: Trained, version: int, seconds: float) -> Doc:
        """v2's kept artifact (the registry's digest-checked copy) as the shadow of prod's variant."""
        described = self._package(self.prod, version)
        artifact = described["GreenfleetArtifact"]
        self.prod.create_model(ModelName=f"{GROUP}-v{version}-shadow", PrimaryContainer={
            "Image": described["InferenceSpecification"]["Containers"][0]["Image"], "ModelDataUrl": artifact["Uri"]})
        config = self.prod.describe_endpoint(EndpointName=ENDPOINT["prod"])["EndpointConfigName"]
        production_model = self.prod.describe_endpoint_config(
            EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]
        infra = {"InfrastructureType": "RealTimeInference",
                 "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}
        name = f"{GROUP}-v{version}-shadow"
        storage = self.workdir / "prod" / "shadow-capture"
        self.prod.create_inference_experiment(
            Name=name, Type="ShadowMode", RoleArn="arn:aws:iam::000000000000:role/example",
            EndpointName=ENDPOINT["prod"], Description=f"{model.version} ({GROUP}/{version}) against the champion",
            ModelVariants=[{"ModelName": production_model, "VariantName": "AllTraffic", "InfrastructureConfig": infra},
                           {"ModelName": f"{GROUP}-v{version}-shadow", "VariantName": "challenger",
                            "InfrastructureConfig": infra}],
            ShadowModeConfig={"SourceModelVariantName": "AllTraffic", "ShadowModelVariants": [
                {"ShadowModelVariantName": "challenger", "SamplingPercentage": 100}]},
            DataStorageConfig={"Destination": str(storage), "ContentType": {"CsvContentTypes": ["text/csv"],
                                                                        "JsonContentTypes": ["application/json"]}})
        wait_for(lambda: self.prod.describe_inference_experiment(Name=name)["Status"] == "Running", 60,
                 "the shadow test running")
        self.traffic.phase = f"shadow-{model.version}"
        time.sleep(seconds)
        report = self.prod.inference_experiment_report(Name=name)
        self.traffic.phase = "steady"
        self.prod.stop_inference_experiment(Name=name, ModelVariantActions={"challenger": "Remove"},
                                            Reason="shadow test over")
        status = wait_for(lambda: (s := self.prod.describe_inference_experiment(Name=name)["Status"]) in (
            "Completed", "Cancelled") and s, 60, "the shadow test stopped")
        time.sleep(1.5)  # the capture writer flushes at least every second
        accuracy = self._captured_accuracy(storage / ENDPOINT["prod"])
        predictions = report["Predictions"]
        worse = predictions.get("Agreement", 1.0) < MIN_AGREEMENT or \
            accuracy["challenger"]["accuracy"] < accuracy["AllTraffic"]["accuracy"]
        self.record.step(
            f"{model.version} shadow test in prod", "prod", "worse than the champion" if worse else "as good",
            "worse than the champion",
            f"every live request copied to {model.version}; answers paired by inference id (agreement from the "
            f"report); accuracy of both sides' captured answers against the dataset's labels",
            experiment=name, status=status, pairs=report["Pairs"], agreement=predictions.get("Agreement"),
            agreement_interval=predictions.get("AgreementInterval"), confusion=predictions.get("ConfusionMatrix"),
            classes=predictions.get("Classes"), latency_ms={k: report["Latency"][k] for k in ("Production", "Shadow")},
            errors=report["Errors"], accuracy=accuracy, min_agreement=MIN_AGREEMENT)
        return {"report": report, "accuracy": accuracy, "worse": worse}

    def _captured_accuracy(self, root: Path) -> Doc:
        """Both variants' captured answers to the same requests (inference ids both captured), each scored
        against the label of the row the inference id names."""
        answers: dict[str, dict[str, int]] = {}
        for variant in ("AllTraffic", "challenger"):
            answers[variant] = {}
            for path in sorted((root / variant).rglob("*.jsonl")):
                for line in path.read_text().splitlines():
                    record = json.loads(line)
                    inference_id = record["eventMetadata"].get("inferenceId") or ""
                    if not inference_id.startswith("row"):
                        continue
                    output = record["captureData"]["endpointOutput"]
                    text = base64.b64decode(output["data"]) if output["encoding"] == "BASE64" else output["data"]
                    answer = json.loads(text)
                    answers[variant][inference_id] = int(answer["predictions"][0] if isinstance(answer, dict)
                                                         else answer[0])
        paired = sorted(set(answers["AllTraffic"]) & set(answers["challenger"]))
        found: Doc = {}
        for variant, predicted in answers.items():
            correct = sum(1 for i in paired if predicted[i] == self.data.y[row_of(i)])
            found[variant] = {"n": len(paired), "accuracy": correct / len(paired) if paired else 0.0}
        return found

    def reject_in_prod(self, model: Trained, version: int, shadow: Doc) -> None:
        accuracy, predictions = shadow["accuracy"], shadow["report"]["Predictions"]
        reason = (f"shadow test: agreement {predictions.get('Agreement', 0):.3f} with the champion "
                  f"(< {MIN_AGREEMENT}); "
                  f"accuracy {accuracy['challenger']['accuracy']:.3f} vs the champion's "
                  f"{accuracy['AllTraffic']['accuracy']:.3f} on {accuracy['challenger']['n']} live requests")
        self.prod.update_model_package(f"{GROUP}/{version}", by="release-manager", ModelApprovalStatus="Rejected",
                                       ApprovalDescription=reason[:1024])
        described = self._package(self.prod, version)
        champion = self.prod.describe_registry_binding(EndpointName=ENDPOINT["prod"])["Champion"]
        self.record.step(f"{model.version} rejected in prod", "prod", described["ModelApprovalStatus"], "Rejected",
                         reason, rejected_by=self._approver(self.prod, version, "Rejected"), champion=champion)

    def _executions(self) -> list[Doc]:
        found: list[Doc] = self.prod.list_monitoring_executions(
            MonitoringScheduleName=SCHEDULE, MaxResults=100, SortBy="ScheduledTime",
            SortOrder="Descending")["MonitoringExecutionSummaries"]
        return found

    def drift(self, shift: float, timeout_s: float) -> None:
        """Shift the input stream (mean radius, feature 0, by ``shift``) and wait for monitoring to notice."""
        before = self._executions()
        before_statuses: dict[str, int] = {}
        for execution in before:  # the finished ones
            status = execution["MonitoringExecutionStatus"]
            if status not in ("Pending", "InProgress"):
                before_statuses[status] = before_statuses.get(status, 0) + 1
        shifted_at = time.time()

        def shifted(row: np.ndarray) -> np.ndarray:
            moved = row.copy()
            moved[0] += shift
            return moved

        self.traffic.phase = "drift"
        self.traffic.shift = shifted

        def caught() -> Doc | None:
            alarm = self.prod.describe_alarm(AlarmName=DRIFT_ALARM)
            return alarm if alarm["StateValue"] == "ALARM" else None

        try:
            alarm = wait_for(caught, timeout_s, "the drift alarm", every_s=0.5)
        except TimeoutError:
            alarm = self.prod.describe_alarm(AlarmName=DRIFT_ALARM)
        after = [e for e in self._executions() if float(e.get("ScheduledTime") or 0) >= shifted_at]
        flagged = [e for e in after if e["MonitoringExecutionStatus"] == "CompletedWithViolations"]
        report = self.prod.monitoring_report(MonitoringScheduleName=SCHEDULE)
        violations = report.get("Violations") or []
        self.record.step(
            "drift monitoring catches the shifted input stream", "prod",
            "CompletedWithViolations" if flagged else (after[-1]["MonitoringExecutionStatus"] if after else "none"),
            "CompletedWithViolations",
            f"from {time.strftime('%H:%M:%S', time.localtime(shifted_at))} the traffic's mean radius is "
            f"{shift:+g}; the schedule compares each 10 s window of captured inputs with the training data",
            executions_before_shift=before_statuses, executions_after_shift=len(after),
            first_violation_after_s=(float(flagged[-1]["ScheduledTime"]) - shifted_at) if flagged else None,
            violations=[{k: v.get(k) for k in ("feature_name", "constraint_check_type", "description")}
                        for v in violations][:5], alarm=alarm["StateValue"], alarm_reason=alarm.get("StateReason"))
