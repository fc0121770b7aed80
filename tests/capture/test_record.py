"""The capture record and file layout against the reference (SageMaker's JSON-lines format)."""

from __future__ import annotations

import base64
import calendar
import json

from greenfleet.capture.config import CaptureSetting, capture_setting
from greenfleet.capture.record import CapturedEvent, encode_line, file_name, hour_prefix, to_record

AT = calendar.timegm((2019, 11, 20, 23, 33, 12)) + 0.648
CONFIG = {"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://b/capture/",
          "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
          "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}}


def event(setting: CaptureSetting, request: bytes = b"132,25,113.2", request_type: str = "text/csv",
          response: bytes = b"0.0107", response_type: str = "text/csv; charset=utf-8",
          inference_id: str | None = None) -> CapturedEvent:
    return CapturedEvent(setting, "ep", "AllTraffic", AT, request, request_type, response, response_type,
                         inference_id)


def test_csv_record_matches_the_reference_shape() -> None:
    setting = capture_setting(CONFIG)
    assert setting is not None and setting.destination == "s3://b/capture"
    record = json.loads(encode_line(to_record(event(setting), "feca1ab1-8025")))
    assert record == {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "132,25,113.2",
                              "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                               "data": "0.0107", "encoding": "CSV"}},
        "eventMetadata": {"eventId": "feca1ab1-8025", "inferenceTime": "2019-11-20T23:33:12Z"},
        "eventVersion": "0"}


def test_json_text_other_types_base64_and_inference_id() -> None:
    setting = capture_setting(CONFIG)
    assert setting is not None
    record = to_record(event(setting, b'{"x": [1, 2]}', "application/json", b"\x00\xff", "application/x-npy",
                             inference_id="caller-7"), "e")
    assert record["captureData"]["endpointInput"]["encoding"] == "JSON"
    assert record["captureData"]["endpointInput"]["data"] == '{"x": [1, 2]}'
    assert record["captureData"]["endpointOutput"] == {
        "observedContentType": "application/x-npy", "mode": "OUTPUT", "encoding": "BASE64",
        "data": base64.b64encode(b"\x00\xff").decode()}
    assert record["eventMetadata"]["inferenceId"] == "caller-7"


def test_without_content_type_header_everything_is_base64_and_modes_are_honoured() -> None:
    setting = capture_setting({**CONFIG, "CaptureContentTypeHeader": None,
                               "CaptureOptions": [{"CaptureMode": "Output"}]})
    assert setting is not None and not setting.capture_input
    record = to_record(event(setting), "e")
    assert list(record["captureData"]) == ["endpointOutput"]
    assert record["captureData"]["endpointOutput"]["encoding"] == "BASE64"
    assert base64.b64decode(record["captureData"]["endpointOutput"]["data"]) == b"0.0107"
    both = capture_setting({**CONFIG, "CaptureOptions": [{"CaptureMode": "InputAndOutput"}]})
    assert both is not None and both.capture_input and both.capture_output


def test_text_type_that_is_not_utf8_falls_back_to_base64() -> None:
    setting = capture_setting(CONFIG)
    assert setting is not None
    payload = to_record(event(setting, request=b"\xff\xfe,1"), "e")["captureData"]["endpointInput"]
    assert payload["encoding"] == "BASE64" and base64.b64decode(payload["data"]) == b"\xff\xfe,1"


def test_disabled_capture_has_no_setting() -> None:
    assert capture_setting({**CONFIG, "EnableCapture": False}) is None
    assert capture_setting(None) is None


def test_key_layout_is_hour_of_invocation_in_utc() -> None:
    assert hour_prefix("ep", "AllTraffic", AT) == "ep/AllTraffic/2019/11/20/23"
    name = file_name(AT, "0b6c")
    assert name == "33-12-648-0b6c.jsonl"


def test_the_writers_fast_encoder_is_byte_for_byte_the_record() -> None:
    from greenfleet.capture.record import fast_line, inference_time

    setting = capture_setting(CONFIG)
    assert setting is not None
    for item in (event(setting), event(setting, b'{"a": "\\u00e9\\n"}', "application/json", b"\x00", "x/y", "i\"d")):
        assert fast_line(item, "e-1", inference_time(item.at)) == encode_line(to_record(item, "e-1"))
