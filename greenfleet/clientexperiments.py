"""The client's calls of shadow tests (SageMaker's InferenceExperiment operations), the paired comparison
report, the feedback API and A/B tests. ``Client`` inherits them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

Doc = dict[str, Any]


def _path(name: str) -> str:
    return quote(name, safe="")


class ExperimentCalls:
    def _call(self, method: str, url: str, body: Doc | None = None, query: Doc | None = None) -> Doc:
        raise NotImplementedError

    # --- inference experiments ---------------------------------------------------------------------
    def create_inference_experiment(self, *, DeploymentConfig: Doc | None = None, **params: Any) -> Doc:
        """CreateInferenceExperiment; ``DeploymentConfig`` (greenfleet's) is how a Promote deploys."""
        body = {**params, **({"DeploymentConfig": DeploymentConfig} if DeploymentConfig is not None else {})}
        return self._call("POST", "/api/inference-experiments", body)

    def describe_inference_experiment(self, Name: str) -> Doc:
        return self._call("GET", f"/api/inference-experiments/{_path(Name)}")

    def list_inference_experiments(self, **params: Any) -> Doc:
        return self._call("GET", "/api/inference-experiments", query=params)

    def update_inference_experiment(self, Name: str, **params: Any) -> Doc:
        return self._call("POST", f"/api/inference-experiments/{_path(Name)}", params)

    def start_inference_experiment(self, Name: str) -> Doc:
        return self._call("POST", f"/api/inference-experiments/{_path(Name)}/start", {})

    def stop_inference_experiment(self, Name: str, **params: Any) -> Doc:
        return self._call("POST", f"/api/inference-experiments/{_path(Name)}/stop", params)

    def delete_inference_experiment(self, Name: str) -> Doc:
        return self._call("DELETE", f"/api/inference-experiments/{_path(Name)}")

    def inference_experiment_report(self, Name: str) -> Doc:
        """The paired comparison report of shadow test ``Name`` (greenfleet's own)."""
        return self._call("GET", f"/api/inference-experiments/{_path(Name)}/report")

    # --- feedback and A/B tests --------------------------------------------------------------------
    def put_feedback(self, EndpointName: str, Outcomes: list[Doc]) -> Doc:
        """Record outcomes ({"InferenceId", "Reward" or "Label"}) of ``EndpointName``'s invocations."""
        return self._call("POST", f"/api/endpoints/{_path(EndpointName)}/feedback", {"Outcomes": Outcomes})

    def create_ab_test(self, **params: Any) -> Doc:
        return self._call("POST", "/api/ab-tests", params)

    def list_ab_tests(self) -> Doc:
        return self._call("GET", "/api/ab-tests")

    def describe_ab_test(self, Name: str) -> Doc:
        return self._call("GET", f"/api/ab-tests/{_path(Name)}")

    def delete_ab_test(self, Name: str) -> Doc:
        return self._call("DELETE", f"/api/ab-tests/{_path(Name)}")
