"""The demo's report for people (the live run is in test_cli_endpoints.py)."""

from __future__ import annotations

import io

from rich.console import Console

from greenfleet.cli.demo import render
from greenfleet.demo import DemoResult


def test_the_report_shows_the_split_and_the_endpoint() -> None:
    described = {"EndpointName": "greenfleet-demo", "EndpointArn": "arn:x", "EndpointStatus": "InService",
                 "ProductionVariants": [{"VariantName": "blue", "CurrentWeight": 0.7, "DesiredWeight": 0.7,
                                         "CurrentInstanceCount": 1, "DesiredInstanceCount": 1}]}
    result = DemoResult(1000, {"blue": 702, "green": 298}, {"blue": 0.7, "green": 0.3}, described,
                        '{"predictions":[1]}', 2.0)
    out = io.StringIO()
    render(result, Console(file=out, width=160))
    text = out.getvalue()
    assert "Observed split over 1000 invocations (500 req/s, sequential)" in text
    assert "70.2%" in text and "29.8%" in text and "NO" not in text
    assert "greenfleet-demo" in text and "InService" in text


def test_a_split_far_from_the_weights_is_flagged() -> None:
    result = DemoResult(1000, {"blue": 500, "green": 500}, {"blue": 0.7, "green": 0.3}, {}, "", 1.0)
    assert not result.within_bounds("blue") and result.expected("green") == 0.3
