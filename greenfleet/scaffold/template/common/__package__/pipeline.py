"""The training pipeline: prepare → train → evaluate → condition → register.

    python -m PACKAGE.pipeline                       # train and register on the dev server
    python -m PACKAGE.pipeline --no-register         # train and evaluate only
    python -m PACKAGE.pipeline --env dev --group dev --approve

Everything a run produced lands in ``--out`` (default ``build/``): ``model/model.joblib``,
``metrics.json`` (the evaluation report the registry keeps), ``lineage.json`` and, once registered,
``registered.json`` (the version's ARN and ``GROUP/VERSION``, for the CI's next steps)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import data, lineage, model
from .config import ROOT, Config, ConfigError, load


class ConditionFailed(Exception):
    """The model scored below the threshold: it is not registered."""


def condition(metrics: dict[str, float], metric: str, threshold: float) -> None:
    """Step ``condition``: refuse a model whose ``metric`` is below ``threshold``."""
    if metric not in metrics:
        raise ConditionFailed(f"no metric {metric!r} (evaluated: {', '.join(sorted(metrics))})")
    if metrics[metric] < threshold:
        raise ConditionFailed(f"{metric} {metrics[metric]:.4f} is below the threshold {threshold:.4f}: "
                              "the model is not registered")


def train_and_evaluate(config: Config, out: Path, group_key: str) -> dict[str, Any]:
    """Steps prepare, train and evaluate; writes the model, the metrics report and the lineage record."""
    dataset = data.prepare(config.dataset, config.test_size, config.random_state)
    estimator = model.train(dataset, config.hyperparameters)
    metrics = model.evaluate(estimator, dataset)
    model_sha256 = model.save(estimator, out / "model")
    (out / "metrics.json").write_text(json.dumps({"metrics": {k: {"value": v} for k, v in sorted(metrics.items())}},
                                                 indent=2))
    record = {"project": config.project, "scenario": config.scenario, "group_key": group_key,
              "commit": lineage.commit(ROOT), "dirty": lineage.dirty(ROOT), "branch": lineage.branch(ROOT),
              "repository": lineage.repository(ROOT), "generated_by": lineage.generated_by(),
              "dataset": dataset.name, "dataset_sha256": dataset.sha256, "dataset_rows": dataset.rows,
              "hyperparameters": config.hyperparameters, "metrics": metrics, "model_sha256": model_sha256,
              "condition": {"metric": config.metric, "threshold": config.threshold}}
    (out / "lineage.json").write_text(json.dumps(record, indent=2, sort_keys=True))
    return record


def register(config: Config, out: Path, record: dict[str, Any], env: str, url: str | None, approve: bool,
             by: str) -> dict[str, Any]:
    """Step ``register`` on server ``env`` (``url`` replaces the configured address)."""
    from greenfleet.client import Client

    from . import registry

    server = config.server(env)
    address = url or server.url
    run_id = f"{record['model_sha256'][:16]}-{record['dataset_sha256'][:8]}"
    model_url, metrics_url = registry.upload(out, server, run_id)
    with Client(address, token=os.environ.get("GREENFLEET_API_TOKEN") or None) as client:
        registered = registry.register(client, config.groups[record["group_key"]], config.image, model_url,
                                       metrics_url, record, approve, by)
    registered["Url"] = address
    (out / "registered.json").write_text(json.dumps(registered, indent=2))
    return registered


def run(config: Config, out: Path, group_key: str, env: str = "dev", url: str | None = None,
        approve: bool = False, do_register: bool = True, by: str | None = None,
        expect_model: str | None = None) -> dict[str, Any]:
    if group_key not in config.groups:
        raise ConfigError(f"no group {group_key!r} in registry.groups (groups: {', '.join(config.groups)})")
    out.mkdir(parents=True, exist_ok=True)
    (out / "registered.json").unlink(missing_ok=True)
    record = train_and_evaluate(config, out, group_key)
    condition(record["metrics"], config.metric, config.threshold)
    if expect_model and record["model_sha256"] != expect_model:
        raise ConditionFailed(f"the model's sha256 {record['model_sha256']} is not the expected {expect_model}: "
                              "the code, data or parameters changed since; not registered")
    if do_register:
        record["registered"] = register(config, out, record, env, url, approve, by or getpass.getuser())
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}.pipeline", description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="dev", help="The server to register on (servers in the config).")
    parser.add_argument("--url", help="The server's address, instead of the configured one.")
    parser.add_argument("--group", help="The group key (feature, dev, ...); default: from the branch.")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="Where the run's files go.")
    parser.add_argument("--threshold", type=float, help="Replace the configured condition threshold.")
    parser.add_argument("--approve", action="store_true", help="Register as Approved (deploys to bound endpoints).")
    parser.add_argument("--no-register", dest="register", action="store_false", help="Stop after the condition.")
    parser.add_argument("--by", help="Who registers, for the registry's audit trail (default: your user name).")
    parser.add_argument("--expect-model", metavar="SHA256",
                        help="Register only if the trained model file has this sha256 (the same bytes as a "
                             "version registered before: training is deterministic).")
    parser.add_argument("--config", type=Path, help="The configuration file (default: greenfleet-project.yaml).")
    args = parser.parse_args(argv)
    from greenfleet.client import ApiError, ClientError

    try:
        config = load(args.config) if args.config else load()
        if args.threshold is not None:
            config = Config(**{**config.__dict__, "threshold": args.threshold})
        group_key = args.group or config.group_for_branch(lineage.branch(ROOT))
        record = run(config, args.out, group_key, args.env, args.url, args.approve, args.register, args.by,
                     args.expect_model)
    except (ConditionFailed, ConfigError, ValueError, ApiError, ClientError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(record["metrics"].items()))
    print(f"trained on {record['dataset']} (sha256 {record['dataset_sha256'][:12]}): {metrics}")
    if "registered" in record:
        done = record["registered"]
        print(f"registered {done['GroupVersion']} ({done['ModelApprovalStatus']}) on {done['Url']}: "
              f"{done['ModelPackageArn']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
