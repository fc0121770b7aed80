"""Data capture: SageMaker's DataCaptureConfig, running. The router samples invocations and offers them
to a bounded queue (``writer.CaptureWriter``); a background thread encodes them as SageMaker's JSON-lines
records (``record``) and writes them under ``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/`` to a
local directory, ``file://`` or ``s3://`` (``destination``); ``reader`` reads them back for Model Monitor."""

from greenfleet.capture.config import CaptureSetting, capture_setting
from greenfleet.capture.writer import CaptureWriter

__all__ = ["CaptureSetting", "CaptureWriter", "capture_setting"]
