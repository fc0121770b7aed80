"""The story's one report, in Markdown: what happened and why, step by step with outcomes, from ``report.json``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

__all__ = ["write_markdown"]

Doc = dict[str, Any]


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _figures(step: Doc) -> list[str]:
    details: Doc = step["details"]
    lines: list[str] = []
    for key, value in details.items():
        if value in (None, [], {}):
            continue
        if key == "timeline":
            lines.append("- deployment timeline:")
            lines.extend(f"  - {message}" for message in value)
        elif key == "judge_metrics":
            for metric in value:
                lines.append(f"- judge, {metric['name']}: {metric['verdict']} (n old/new {metric['control_n']}/"
                             f"{metric['experiment_n']}, old {_num(metric['control_value'])}, new "
                             f"{_num(metric['experiment_value'])})")
        elif key == "accuracy" and isinstance(value, dict) and "challenger" in value:
            lines.append(f"- accuracy on live requests: champion {value['AllTraffic']['accuracy']:.3f} "
                         f"(n={value['AllTraffic']['n']}), challenger {value['challenger']['accuracy']:.3f} "
                         f"(n={value['challenger']['n']})")
        elif key == "load":
            lines.append(f"- traffic during the step: {value['requests']} requests, {value['ok']} answered, "
                         f"{value['failed']} failed" + "".join(
                             f", HTTP {k.removeprefix('status_')}: {n}" for k, n in value.items()
                             if k.startswith("status_")))
        else:
            shown = json.dumps(_rounded(value), default=str) if isinstance(value, dict | list) else _num(value)
            lines.append(f"- {key.replace('_', ' ')}: {shown}")
    return lines


def _rounded(value: Any) -> Any:
    """Floats to four significant digits, inside lists and maps too."""
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_markdown(doc: Doc, path: Path, timeline_url: str | None) -> None:
    steps: list[Doc] = doc["Steps"]
    setup: Doc = doc["Setup"]
    lines = ["# greenfleet MLOps example: the lifecycle of the `diagnosis` model", "",
             f"Run from {_clock(doc['StartedAt'])} to {_clock(doc['FinishedAt'])} "
             f"({doc['FinishedAt'] - doc['StartedAt']:.0f} s) on two greenfleet servers: dev at {setup.get('DevUrl')}, "
             f"prod at {setup.get('ProdUrl')}. "
             + ("Every step turned out as expected." if doc["AllAsExpected"] else "**Some steps did not turn out as "
                                                                                  "expected.**"), ""]
    if doc.get("Error"):
        lines += [f"**The run stopped early:** {doc['Error']}", ""]
    lines += ["Both servers start with an endpoint serving v0, the hand-deployed model from before the registry, "
              "bound to the model package group `diagnosis`: dev deploys every approved version at once; prod "
              "through a canary (25 % for 8 s, judged against a fresh copy of the old version on latency and 5xx "
              "rate, then 100 %) with an alarm on 5xx errors. Prod captures its traffic and monitors it for drift "
              "every 2 s against the training data. Users send traffic to prod throughout.", "",
              "| # | step | where | outcome | expected | |", "|---|---|---|---|---|---|"]
    for step in steps:
        mark = "✓" if step["as_expected"] else "✗ unexpected"
        lines.append(f"| {step['number']} | {step['title']} | {step['environment']} | {step['outcome']} | "
                     f"{step['expected']} | {mark} |")
    lines.append("")
    for step in steps:
        lines += [f"## {step['number']}. {step['title']} ({step['environment']}, {_clock(step['at'])})", "",
                  f"**Outcome: {step['outcome']}** (expected {step['expected']}). Why: {step['why']}", ""]
        lines += _figures(step)
        lines.append("")
    if timeline_url:
        lines += ["## The dashboard's timeline", "",
                  f"Prod's dashboard shows the same story as a timeline: {timeline_url} (saved beside this report "
                  "as `timeline.html`).", ""]
    path.write_text("\n".join(lines))
