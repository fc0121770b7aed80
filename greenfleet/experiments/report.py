"""The paired comparison report of a shadow test: production and shadow on the same requests.

- Latency: ModelLatency p50/p90/p99 per variant (ms) and the judge's Hodges-Lehmann shift of the shadow
  against production with its 98 % interval (greenfleet.judge.mannwhitney.compare_shift).
- Errors: each variant's error rate (a non-2xx answer) and the judge's always-valid sequential test of the
  difference (greenfleet.judge.sequential.proportion_look, alpha 0.05).
- Predictions (what SageMaker's shadow test does not compare), over pairs both variants answered:
  classification (every value an integer or a label): agreement rate, a Wilson 95 % interval and the
  production-by-shadow confusion matrix; regression: percentiles of |shadow - production|. The most divergent
  inputs are listed with both answers.

Answers are read as JSON (a number, a list, or an object's ``predictions``/``scores``/``outputs``) or as
CSV; a multi-value answer is compared on its first value.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import numpy as np

from greenfleet.experiments.pairs import Pair
from greenfleet.judge.mannwhitney import compare_shift
from greenfleet.judge.samples import Counts
from greenfleet.judge.sequential import proportion_look

Doc = dict[str, Any]
Value = float | str
ALPHA = 0.05
DIVERGENT_SHOWN = 5
MAX_CLASSES = 20


def parse_answer(body: bytes) -> list[Value]:
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return [_value(cell) for line in text.splitlines() for cell in line.split(",") if cell.strip()]
    if isinstance(parsed, dict):
        parsed = next((parsed[k] for k in ("predictions", "scores", "outputs", "predicted_label") if k in parsed),
                      list(parsed.values()))
    return [_value(v) for v in _flatten(parsed)]


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for v in value for item in _flatten(v)]
    if isinstance(value, dict):
        return [item for v in value.values() for item in _flatten(v)]
    return [value]


def _value(raw: Any) -> Value:
    if isinstance(raw, bool):
        return str(raw).lower()
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip().strip('"')
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _is_label(value: Value) -> bool:
    return isinstance(value, str) or float(value).is_integer()


def _label(value: Value) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def _percentiles(values: list[float]) -> Doc:
    if not values:
        return {"p50": None, "p90": None, "p99": None}
    p50, p90, p99 = np.percentile(np.asarray(values), [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99)}


def _latency(pairs: list[Pair]) -> Doc:
    prod = [p.production.model_latency_us / 1000 for p in pairs if p.production.model_latency_us is not None]
    shadow = [p.shadow.model_latency_us / 1000 for p in pairs if p.shadow.model_latency_us is not None]
    result: Doc = {"Unit": "Milliseconds", "Production": _percentiles(prod), "Shadow": _percentiles(shadow)}
    if prod and shadow:
        compared = compare_shift(np.asarray(prod), np.asarray(shadow))
        interval = compared.interval
        result["Shift"] = {"Estimate": interval.estimate if interval else 0.0,
                           "Lower": interval.lower if interval else 0.0,
                           "Upper": interval.upper if interval else 0.0, "Confidence": 0.98,
                           "Verdict": str(compared.verdict), "Message": compared.message}
    return result


def _errors(pairs: list[Pair]) -> Doc:
    prod = Counts(len(pairs), sum(1 for p in pairs if p.production.outcome != "ok"))
    shadow = Counts(len(pairs), sum(1 for p in pairs if p.shadow.outcome != "ok"))
    result: Doc = {"Production": {"Requests": prod.trials, "Errors": prod.events, "Rate": prod.rate},
                   "Shadow": {"Requests": shadow.trials, "Errors": shadow.events, "Rate": shadow.rate}}
    if pairs:
        look = proportion_look(prod, shadow, alpha=ALPHA)
        p = min(look.p_high, look.p_low)
        result["Difference"] = {"Estimate": look.delta, "Lower": look.lower, "Upper": look.upper,
                                "PValue": p, "Significant": p < ALPHA}
    return result


def _wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    phat = successes / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _predictions(pairs: list[Pair]) -> Doc:
    both = [(p, parse_answer(p.production.body), parse_answer(p.shadow.body)) for p in pairs
            if p.production.outcome == "ok" and p.shadow.outcome == "ok"]
    both = [(p, a, b) for p, a, b in both if a and b]
    if not both:
        return {"Pairs": 0, "Kind": None}
    if all(_is_label(a[0]) and _is_label(b[0]) for _, a, b in both):
        return _classification(both)
    return _regression(both)


def _classification(both: list[tuple[Pair, list[Value], list[Value]]]) -> Doc:
    labels = [(_label(a[0]), _label(b[0])) for _, a, b in both]
    agree = sum(1 for x, y in labels if x == y)
    lower, upper = _wilson(agree, len(labels))
    classes = sorted({x for x, _ in labels} | {y for _, y in labels})[:MAX_CLASSES]
    counts = Counter(labels)
    divergent = [_divergent(p, a, b, None) for (p, a, b), (x, y) in zip(both, labels, strict=True) if x != y]
    return {"Pairs": len(labels), "Kind": "classification", "Agreement": agree / len(labels),
            "AgreementInterval": [lower, upper], "Classes": classes,
            "ConfusionMatrix": [[counts[(x, y)] for y in classes] for x in classes],
            "MostDivergent": divergent[-DIVERGENT_SHOWN:]}


def _regression(both: list[tuple[Pair, list[Value], list[Value]]]) -> Doc:
    numeric = [(p, a, b, float(b[0]) - float(a[0])) for p, a, b in both
               if not isinstance(a[0], str) and not isinstance(b[0], str)]
    diffs = [abs(d) for *_, d in numeric]
    ranked = sorted(numeric, key=lambda item: -abs(item[3]))[:DIVERGENT_SHOWN]
    result: Doc = {"Pairs": len(numeric), "Kind": "regression",
                   "AbsoluteDifference": {**_percentiles(diffs), "Mean": float(np.mean(diffs)) if diffs else None},
                   "MeanSignedDifference": float(np.mean([d for *_, d in numeric])) if numeric else None,
                   "MostDivergent": [_divergent(p, a, b, d) for p, a, b, d in ranked]}
    return result


def _divergent(pair: Pair, production: list[Value], shadow: list[Value], difference: float | None) -> Doc:
    item: Doc = {"InferenceId": pair.inference_id, "Input": pair.request.decode("utf-8", "replace")[:200],
                 "Production": production[:5], "Shadow": shadow[:5]}
    if difference is not None:
        item["Difference"] = difference
    return item


def comparison_report(name: str, endpoint: str, production: str, shadow: str, pairs: list[Pair]) -> Doc:
    return {"InferenceExperimentName": name, "EndpointName": endpoint, "ProductionVariant": production,
            "ShadowVariant": shadow, "Pairs": len(pairs), "Latency": _latency(pairs), "Errors": _errors(pairs),
            "Predictions": _predictions(pairs)}
