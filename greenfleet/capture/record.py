"""SageMaker's data-capture record (one JSON object per line) and the layout of captured files:
``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/{MM-SS-mmm-uuid}.jsonl``, grouped by invocation hour (UTC)."""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from greenfleet.capture.config import CaptureSetting


@dataclass(frozen=True, slots=True)
class CapturedEvent:
    """One sampled invocation as the router hands it over: raw bytes only, nothing encoded yet."""

    setting: CaptureSetting
    endpoint: str
    variant: str
    at: float
    """Invocation time, epoch seconds."""
    request: bytes
    request_type: str
    response: bytes
    response_type: str
    inference_id: str | None

    @property
    def size(self) -> int:
        return len(self.request) + len(self.response) + 256


def _payload(setting: CaptureSetting, mode: str, content_type: str, data: bytes) -> dict[str, str]:
    encoding = setting.encoding_of(content_type)
    text: str | None = None
    if encoding != "BASE64":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"  # listed as text but not UTF-8: keep the bytes exact
    if text is None:
        text = base64.b64encode(data).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def inference_time(at: float) -> str:
    """``2019-11-20T23:33:12Z``, as in SageMaker's records (whole seconds, UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def to_record(event: CapturedEvent, event_id: str) -> dict[str, Any]:
    capture: dict[str, Any] = {}
    if event.setting.capture_input:
        capture["endpointInput"] = _payload(event.setting, "INPUT", event.request_type, event.request)
    if event.setting.capture_output:
        capture["endpointOutput"] = _payload(event.setting, "OUTPUT", event.response_type, event.response)
    metadata = {"eventId": event_id, "inferenceTime": inference_time(event.at)}
    if event.inference_id is not None:
        metadata["inferenceId"] = event.inference_id
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


def encode_line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


_quote = json.encoder.encode_basestring  # the C string encoder json.dumps uses


def _payload_json(setting: CaptureSetting, mode: str, content_type: str, data: bytes) -> str:
    payload = _payload(setting, mode, content_type, data)
    return (f'{{"observedContentType":{_quote(payload["observedContentType"])},"mode":"{mode}",'
            f'"data":{_quote(payload["data"])},"encoding":"{payload["encoding"]}"}}')


def fast_line(event: CapturedEvent, event_id: str, inference_time_text: str) -> bytes:
    """``encode_line(to_record(event, event_id))`` byte for byte, without building the dicts (the writer's
    inner loop)."""
    parts = []
    if event.setting.capture_input:
        parts.append('"endpointInput":' + _payload_json(event.setting, "INPUT", event.request_type, event.request))
    if event.setting.capture_output:
        parts.append('"endpointOutput":' + _payload_json(event.setting, "OUTPUT", event.response_type,
                                                         event.response))
    inference = f',"inferenceId":{_quote(event.inference_id)}' if event.inference_id is not None else ""
    return (f'{{"captureData":{{{",".join(parts)}}},"eventMetadata":{{"eventId":{_quote(event_id)},'
            f'"inferenceTime":"{inference_time_text}"{inference}}},"eventVersion":"0"}}\n').encode()


def hour_prefix(endpoint: str, variant: str, at: float) -> str:
    """``{endpoint}/{variant}/yyyy/mm/dd/hh`` of an invocation time (relative to the destination)."""
    return f"{endpoint}/{variant}/" + time.strftime("%Y/%m/%d/%H", time.gmtime(at))


def file_name(at: float, unique: str) -> str:
    """``MM-SS-mmm-<uuid>.jsonl`` (minute, second, millisecond of the first record in the file)."""
    return time.strftime("%M-%S", time.gmtime(at)) + f"-{int(at * 1000) % 1000:03d}-{unique}.jsonl"


class EventIds:
    """Random (version 4) UUID strings, as ``str(uuid.uuid4())`` gives them, at a quarter of its cost: the
    random bytes are read from the OS 1,024 ids at a time."""

    def __init__(self) -> None:
        self._pool: list[str] = []

    def __call__(self) -> str:
        if not self._pool:
            h = os.urandom(16 * 1024).hex()
            self._pool = [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{_VARIANT[h[i + 16]]}{h[i + 17:i + 20]}-"
                          f"{h[i + 20:i + 32]}" for i in range(0, len(h), 32)]
        return self._pool.pop()


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
"""RFC 4122 variant bits (10xx) in the high nibble of the ninth byte."""
