"""The ONNX runtime: ``model.onnx`` on onnxruntime's CPU provider.

The request rows feed the model's first input, cast to that input's element type (float32 for
skl2onnx models). The first output is the prediction; a classifier's probability output (skl2onnx's
second output, a tensor or a ZipMap list of ``{label: probability}``) is added as ``probabilities``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from greenfleet.workers.errors import ModelInputError, StartupError
from greenfleet.workers.media import ARRAY_TYPES, JSON, decode_rows, dumps_json, encode_predictions, negotiate
from greenfleet.workers.runtimes.modelfile import find_model_file

__all__ = ["OnnxRuntime"]

_ELEMENT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.str_,
}


class OnnxRuntime:
    def __init__(self, onnxruntime: ModuleType) -> None:
        self._ort = onnxruntime
        self._session: Any = None
        self._input = ""
        self._dtype: Any = np.float32
        self._probabilities: int | None = None

    def load(self, model_dir: Path) -> None:
        path = find_model_file(model_dir, names=("model.onnx",), patterns=("*.onnx",), kind="ONNX")
        options = self._ort.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = self._ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise StartupError(f"onnxruntime cannot load {path.name}: {exc}") from exc
        first = self._session.get_inputs()[0]
        self._input = first.name
        self._dtype = _ELEMENT_TYPES.get(first.type, np.float32)
        outputs = [output.name.lower() for output in self._session.get_outputs()]
        self._probabilities = next((i for i, name in enumerate(outputs) if i > 0 and "prob" in name), None)

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        rows = decode_rows(body, content_type or JSON)
        media = negotiate(accept, ARRAY_TYPES, JSON)
        try:
            feed = rows.astype(self._dtype)
        except (TypeError, ValueError) as exc:
            raise ModelInputError(f"input '{self._input}' takes {np.dtype(self._dtype).name} values: {exc}") from exc
        outputs = self._run(feed)
        if media != JSON:
            return encode_predictions(outputs[0], media), media
        answer: dict[str, Any] = {"predictions": outputs[0]}
        if self._probabilities is not None:
            answer["probabilities"] = _probabilities(outputs[self._probabilities])
        return dumps_json(answer), media

    def _run(self, feed: NDArray[Any]) -> list[Any]:
        try:
            outputs: list[Any] = self._session.run(None, {self._input: feed})
        except Exception as exc:
            if type(exc).__name__ in ("InvalidArgument", "InvalidProtobuf"):
                raise ModelInputError(str(exc)) from exc
            raise
        return outputs


def _probabilities(output: Any) -> Any:
    if isinstance(output, list):  # ZipMap: one {label: probability} per row
        return [{str(label): float(p) for label, p in row.items()} for row in output]
    return output
