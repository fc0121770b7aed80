"""Data capture: SageMaker's DataCaptureConfig, running. The router samples invocations and offers them
to a bounded queue (``writer.CaptureWriter``); a background thread encodes them as SageMaker's JSON-lines
records (``record``) and writes them under ``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/`` to a
local directory, ``file://`` or ``s3://`` (``destination``); ``reader`` reads them back for Model Monitor.

The package imports nothing itself: the data plane loads only ``config`` and ``record`` (no botocore)."""
