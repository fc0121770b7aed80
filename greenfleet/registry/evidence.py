"""Evidence on a model package version: the results of checks run against it (an integration test, a
load test in the test environment), each recorded as one entry of the audit trail (kind ``evidence``),
so who recorded what and when is kept like every approval. The newest result of a check is the one
that counts.

A server can require evidence before it accepts an approval: with
``GREENFLEET_REGISTRY_REQUIRED_EVIDENCE=integration,load`` an UpdateModelPackage to Approved (and a
registration as Approved) is refused with a ValidationException naming each required check that has no
result on the version or whose newest result is Failed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ValidationError
from greenfleet.registry.caller import caller
from greenfleet.registry.repository import RegistryRepository

Doc = dict[str, Any]
KIND = "evidence"
STATUSES = ("Passed", "Failed")
CHECK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}")
MAX_DETAILS, MAX_DETAIL_KEY, MAX_DETAIL_VALUE, MAX_URL = 50, 128, 1024, 2048


def required_checks(setting: str) -> tuple[str, ...]:
    """``GREENFLEET_REGISTRY_REQUIRED_EVIDENCE``: a comma list of check names (each a valid name)."""
    names = tuple(dict.fromkeys(n.strip() for n in setting.split(",") if n.strip()))
    for name in names:
        if not CHECK_NAME.fullmatch(name):
            raise ValueError(f"GREENFLEET_REGISTRY_REQUIRED_EVIDENCE: '{name}' is not a check name "
                             f"(pattern {CHECK_NAME.pattern})")
    return names


def checked(params: Doc) -> Doc:
    """One evidence record from a request: ``Check``, ``Status``, optional ``Detail`` (string to string)
    and ``Url``; the recorder's own ``RecordedBy``/``RecordedAt`` are kept when evidence travels."""
    unknown = set(params) - {"Check", "Status", "Detail", "Url"}
    if unknown:
        raise ValidationError(f"Unknown evidence member(s): {', '.join(sorted(unknown))} "
                              "(give Check, Status, Detail, Url)")
    check = params.get("Check")
    if not isinstance(check, str) or not CHECK_NAME.fullmatch(check):
        raise ValidationError(f"Check: '{check}' is not a check name (pattern {CHECK_NAME.pattern})")
    status = params.get("Status")
    if status not in STATUSES:
        raise ValidationError(f"Status: '{status}' must be one of {', '.join(STATUSES)}")
    record: Doc = {"Check": check, "Status": status}
    detail = params.get("Detail")
    if detail is not None:
        if not isinstance(detail, dict) or len(detail) > MAX_DETAILS or not all(
                isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= MAX_DETAIL_KEY
                and len(v) <= MAX_DETAIL_VALUE for k, v in detail.items()):
            raise ValidationError(f"Detail: a map of at most {MAX_DETAILS} string keys (1-{MAX_DETAIL_KEY} "
                                  f"characters) to string values (at most {MAX_DETAIL_VALUE})")
        if detail:
            record["Detail"] = dict(detail)
    url = params.get("Url")
    if url is not None:
        if not isinstance(url, str) or not 0 < len(url) <= MAX_URL:
            raise ValidationError(f"Url: a string of 1-{MAX_URL} characters")
        record["Url"] = url
    return record


def entry(row: Doc) -> Doc:
    """An evidence history row as the API shows it."""
    detail = row["detail"] or {}
    shown: Doc = {"Sequence": row["seq"], "Check": detail.get("Check"), "Status": detail.get("Status"),
                  "Time": row["at"], "By": row["by"]}
    for key in ("Detail", "Url", "PromotedFrom"):
        if detail.get(key) is not None:
            shown[key] = detail[key]
    return shown


def missing(required: Sequence[str], evidence: Sequence[Doc]) -> list[str]:
    """Each required check with no result, or whose newest result is not Passed, as a reason."""
    newest = {e["Check"]: e["Status"] for e in evidence}  # oldest first: the newest result wins
    reasons = []
    for check in required:
        status = newest.get(check)
        if status is None:
            reasons.append(f"{check} (no evidence)")
        elif status != "Passed":
            reasons.append(f"{check} ({status})")
    return reasons


class EvidenceService:
    def __init__(self, repo: RegistryRepository, clock: Clock, required: tuple[str, ...]) -> None:
        self.repo, self.clock, self.required = repo, clock, required

    def evidence(self, arn: str) -> list[Doc]:
        return [entry(r) for r in self.repo.history(arn=arn, kinds=(KIND,))]

    def record(self, row: Doc, params: Doc) -> Doc:
        """Add one check result to version ``row`` (a registry row) in the audit trail."""
        record = checked(params)
        with self.repo.transaction() as tx:
            seq = self.repo.add_history(tx, history_row(row, record, self.clock.now(), caller()))
        return {"ModelPackageArn": row["arn"], "Sequence": seq, **record}

    def listing(self, row: Doc) -> Doc:
        found = self.evidence(row["arn"])
        return {"ModelPackageArn": row["arn"], "Evidence": found, "RequiredChecks": list(self.required),
                "MissingChecks": missing(self.required, found)}

    def gate(self, arn: str | None) -> None:
        """Refuse an approval of version ``arn`` (None: a version being registered) that lacks evidence."""
        if not self.required:
            return
        reasons = missing(self.required, self.evidence(arn) if arn else [])
        if reasons:
            raise ValidationError(
                f"ModelApprovalStatus Approved: this server requires passed evidence of "
                f"{', '.join(self.required)} before approval (GREENFLEET_REGISTRY_REQUIRED_EVIDENCE); missing "
                f"or failed: {', '.join(reasons)}. Record it with 'greenfleet registry evidence add'"
                + ("; register the version PendingManualApproval first." if arn is None else "."))


def history_row(row: Doc, record: Doc, now: float, by: str) -> Doc:
    return {"package_arn": row["arn"], "group_name": row["group_name"], "version": row["version"], "at": now,
            "kind": KIND, "from_status": None, "to_status": None, "by": by, "reason": None, "detail": record}
